// The community's grid map: every grid boundary coloured by its party branch, compounds as
// dots; a tap on a grid shows its branch and, for the viewer's own grids, who is on duty.
// Data comes from the json_script block "grid-map-data"; nothing here is inline (strict CSP).
(function () {
  "use strict";
  var source = document.getElementById("grid-map-data");
  var container = document.getElementById("grid-map");
  if (!source || !container || typeof L === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var labels = data.labels || {};
  // Keep in step with .swatch-N in static/grids/grids.css.
  var COLOURS = ["#d32f2f", "#1976d2", "#388e3c", "#f57c00", "#7b1fa2", "#00838f", "#5d4037", "#c2185b"];
  var NO_BRANCH = "#757575";

  // Leaflet's own zoom buttons, titled in the page's language.
  var map = L.map(container, { zoomSnap: 0.25, scrollWheelZoom: false, zoomControl: false });
  L.control.zoom({ zoomInTitle: labels.zoom_in || "Zoom in", zoomOutTitle: labels.zoom_out || "Zoom out" }).addTo(map);
  if (data.tiles && data.tiles.url) {
    L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution || "", maxZoom: 19 }).addTo(map);
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function describe(grid) {
    var box = element("div");
    box.appendChild(element("span", "popup-title", grid.name + " (" + grid.code + ")"));
    box.appendChild(element("div", "", labels.branch + ": " + (grid.branch || labels.no_branch)));
    if (grid.people_visible) {
      box.appendChild(element("div", "", labels.on_duty + ":"));
      if (grid.on_duty.length) {
        var list = element("ul");
        grid.on_duty.forEach(function (person) { list.appendChild(element("li", "", person.name + " · " + person.duty)); });
        box.appendChild(list);
      } else {
        box.appendChild(element("div", "muted", labels.nobody));
      }
      if (grid.url) {
        var link = element("a", "", labels.open);
        link.href = grid.url;
        box.appendChild(link);
      }
    } else {
      box.appendChild(element("div", "muted", labels.not_yours));
    }
    return box;
  }

  var panel = document.getElementById("grid-panel");
  function show(grid) {
    if (!panel) { return; }
    panel.textContent = "";
    var heading = element("h2", "", grid.name);
    panel.appendChild(heading);
    panel.appendChild(describe(grid));
    panel.setAttribute("data-grid", grid.code);
  }

  var drawn = L.featureGroup().addTo(map);
  if (data.community && data.community.boundary) {
    L.geoJSON(data.community.boundary, {
      interactive: false,
      style: { color: "#424242", weight: 3, dashArray: "6 4", fill: false, className: "community-outline" }
    }).addTo(drawn);
  }
  (data.grids || []).forEach(function (grid) {
    var colour = grid.colour === null || grid.colour === undefined ? NO_BRANCH : COLOURS[grid.colour % COLOURS.length];
    var layer = L.geoJSON(grid.boundary, {
      style: { color: colour, weight: 2, fillColor: colour, fillOpacity: grid.people_visible ? 0.35 : 0.12, className: "grid-shape" }
    });
    layer.bindPopup(function () { return describe(grid); }, { autoPanPadding: [12, 12], maxWidth: 260 });
    layer.bindTooltip(grid.code, { permanent: false, direction: "center" });
    layer.on("click", function () { show(grid); });
    layer.addTo(drawn);
  });
  (data.compounds || []).forEach(function (compound) {
    L.circleMarker([compound.latitude, compound.longitude], {
      radius: 6, color: "#ffffff", weight: 2, fillColor: "#212121", fillOpacity: 0.9, className: "compound-marker"
    }).bindTooltip(compound.name).addTo(drawn);
  });
  var bounds = drawn.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [8, 8] });
  } else {
    map.setView([37.463, 118.495], 15);
  }
  container.setAttribute("data-grids-drawn", String((data.grids || []).length));
})();
