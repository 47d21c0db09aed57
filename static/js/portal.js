// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  var toggle = document.querySelector(".menu-toggle");
  var nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // A level select offers only the scale of the group chosen in its form (grids LevelSelect):
  // data-level-of names the fields that choose the group, in order; a field's value, or its
  // chosen option's data-group, is looked up in data-scales; options of other scales are hidden.
  Array.prototype.forEach.call(document.querySelectorAll("select[data-level-of]"), function (select) {
    var form = select.form;
    var scales = JSON.parse(select.getAttribute("data-scales") || "{}");
    var sources = select.getAttribute("data-level-of").split(" ").map(function (name) {
      return form && form.elements[name];
    }).filter(Boolean);
    function chosenScale() {
      for (var i = 0; i < sources.length; i++) {
        var field = sources[i];
        var option = field.options ? field.options[field.selectedIndex] : null;
        var group = option && option.getAttribute("data-group") !== null ? option.getAttribute("data-group") : field.value;
        if (Object.prototype.hasOwnProperty.call(scales, group)) { return scales[group]; }
      }
      return null;
    }
    function update() {
      var scale = chosenScale();
      Array.prototype.forEach.call(select.querySelectorAll("option[data-scale]"), function (option) {
        var other = scale !== null && option.getAttribute("data-scale") !== scale;
        option.hidden = other;
        option.disabled = other;
        if (other && option.selected) { select.value = ""; }
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        group.hidden = group.querySelector("option:not([hidden])") === null;
      });
    }
    sources.forEach(function (field) { field.addEventListener("change", update); });
    update();
  });
  // A form is sent once: a second tap while the first is on its way does nothing.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitted === "1") { event.preventDefault(); return; }
    form.dataset.submitted = "1";
    window.setTimeout(function () { form.dataset.submitted = ""; }, 8000);
  });
})();
