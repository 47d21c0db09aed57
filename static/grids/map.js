// The community's grid map: every grid boundary coloured by its party branch over a schematic
// base map (streets, landmark buildings), compounds as labelled dots; a tap on a grid shows its
// branch and, for the viewer's own grids, who is on duty.
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
  // Chinese text takes full-width punctuation.
  var zh = /^zh/i.test(document.documentElement.lang || "");
  var COLON = zh ? "：" : ": ";

  // Leaflet's own zoom buttons, titled in the page's language.
  var map = L.map(container, { zoomSnap: 0.25, scrollWheelZoom: false, zoomControl: false });
  var zoom = L.control.zoom({ zoomInTitle: labels.zoom_in || "Zoom in", zoomOutTitle: labels.zoom_out || "Zoom out" }).addTo(map);
  var hasTiles = Boolean(data.tiles && data.tiles.url);
  if (hasTiles) {
    var subdomains = data.tiles.subdomains || "abc";
    L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution || "", maxZoom: 18, subdomains: subdomains }).addTo(map);
    (data.tiles.overlays || []).forEach(function (url) {
      L.tileLayer(url, { maxZoom: 18, subdomains: subdomains }).addTo(map);
    });
    container.classList.add("has-tiles");
  }
  // A popup is panned clear of the zoom buttons (top left), not only of the map's edge.
  var zoomBox = zoom.getContainer();
  var popupPadding = {
    autoPanPaddingTopLeft: L.point(zoomBox.offsetLeft + zoomBox.offsetWidth + 8, zoomBox.offsetTop + zoomBox.offsetHeight + 8),
    autoPanPaddingBottomRight: L.point(12, 12),
    maxWidth: 240
  };

  // The base map sits under the grids (pane 350 < overlayPane 400); its labels over them but
  // under the compounds' labels. Neither takes taps, which belong to the grids.
  map.createPane("basemap").style.zIndex = 350;
  map.createPane("basemap-labels").style.zIndex = 450;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function describe(grid) {
    var box = element("div");
    box.appendChild(element("span", "popup-title", grid.name + (zh ? "（" + grid.code + "）" : " (" + grid.code + ")")));
    if (grid.dedicated) {
      box.appendChild(element("div", "popup-kind", (labels.dedicated || "Dedicated grid") + (grid.site ? " · " + grid.site : "")));
    }
    box.appendChild(element("div", "", labels.branch + COLON + (grid.branch || labels.no_branch)));
    if (grid.people_visible) {
      box.appendChild(element("div", "", labels.on_duty + (zh ? "：" : ":")));
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

  function label(latlng, className, text) {
    var span = element("span", className, text);
    return L.marker(latlng, {
      pane: "basemap-labels", interactive: false, keyboard: false,
      icon: L.divIcon({ className: "basemap-label", html: span, iconSize: null })
    });
  }

  // Rough size of a label in pixels (CJK glyphs are square), to place labels apart.
  function textWidth(text, fontSize) { return String(text).length * fontSize + 10; }
  var buildingLabels = [];

  var basemap = L.layerGroup();
  var basemapFeatures = data.basemap || [];
  basemapFeatures.forEach(function (feature) {
    var props = feature.properties;
    if (props.kind === "street") {
      L.geoJSON(feature, { pane: "basemap", interactive: false, style: { color: "#c9c2b3", weight: 11, lineCap: "butt", className: "street-casing" } }).addTo(basemap);
      L.geoJSON(feature, { pane: "basemap", interactive: false, style: { color: "#ffffff", weight: 7, lineCap: "butt", className: "street-line" } }).addTo(basemap);
      var coords = feature.geometry.coordinates;
      var first = coords[0], last = coords[coords.length - 1];
      var vertical = Math.abs(last[1] - first[1]) > Math.abs(last[0] - first[0]);
      var at = props.label_at || [(first[0] + last[0]) / 2, (first[1] + last[1]) / 2];
      label([at[1], at[0]], "street-label" + (vertical ? " vertical" : ""), props.name).addTo(basemap);
    } else if (props.kind === "building") {
      var shape = L.geoJSON(feature, {
        pane: "basemap", interactive: false,
        style: { color: "#a8916b", weight: 1, fillColor: "#e9dcc4", fillOpacity: 1, className: "building-shape" }
      }).addTo(basemap);
      var centre = props.label_at ? L.latLng(props.label_at[1], props.label_at[0]) : shape.getBounds().getCenter();
      buildingLabels.push({ at: centre, width: textWidth(props.name, 12), height: 16 });
      label(centre, "building-label", props.name).addTo(basemap);
    }
  });
  basemap.addTo(map);
  if (hasTiles && basemapFeatures.length) {
    var overlays = {};
    overlays[labels.basemap || "Streets and buildings"] = basemap;
    L.control.layers(null, overlays, { position: "topright", collapsed: false }).addTo(map);
  }

  var drawn = L.featureGroup().addTo(map);
  if (data.community && data.community.boundary) {
    L.geoJSON(data.community.boundary, {
      interactive: false,
      style: { color: "#424242", weight: 3, dashArray: "6 4", fill: false, className: "community-outline" }
    }).addTo(drawn);
  }
  // Ordinary grids tile the community; dedicated grids (专属网格, round one building) are drawn
  // after them, so they lie on top and take the taps on their site.
  var grids = data.grids || [];
  var ordinary = grids.filter(function (grid) { return !grid.dedicated; });
  var dedicated = grids.filter(function (grid) { return grid.dedicated; });
  ordinary.concat(dedicated).forEach(function (grid) {
    var colour = grid.colour === null || grid.colour === undefined ? NO_BRANCH : COLOURS[grid.colour % COLOURS.length];
    var style = grid.dedicated
      ? { color: "#6d4c41", weight: 2, dashArray: "3 3", fillColor: "#a1887f", fillOpacity: grid.people_visible ? 0.3 : 0.12, className: "dedicated-grid-shape" }
      : { color: colour, weight: 2, fillColor: colour, fillOpacity: grid.people_visible ? 0.28 : 0.08, className: "grid-shape" };
    var layer = L.geoJSON(grid.boundary, { style: style });
    layer.bindPopup(function () { return describe(grid); }, popupPadding);
    layer.bindTooltip(grid.code, { permanent: false, direction: "center" });
    layer.on("click", function () { show(grid); });
    layer.addTo(drawn);
  });
  var compoundMarkers = (data.compounds || []).map(function (compound) {
    var marker = L.circleMarker([compound.latitude, compound.longitude], {
      radius: 6, color: "#ffffff", weight: 2, fillColor: "#212121", fillOpacity: 0.9, className: "compound-marker"
    }).addTo(drawn);
    return { marker: marker, name: compound.name };
  });
  var bounds = drawn.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [8, 8] });
  } else {
    map.setView([37.463, 118.495], 15);
  }

  // Each compound's permanent label goes on the first side (right, top, bottom, left) where, at
  // the first view, it covers neither a building's label nor a label already placed.
  var SIDES = [
    { direction: "right", offset: [8, 0], box: function (p, w, h) { return [p.x + 8, p.y - h / 2, w, h]; } },
    { direction: "top", offset: [0, -8], box: function (p, w, h) { return [p.x - w / 2, p.y - 8 - h, w, h]; } },
    { direction: "bottom", offset: [0, 8], box: function (p, w, h) { return [p.x - w / 2, p.y + 8, w, h]; } },
    { direction: "left", offset: [-8, 0], box: function (p, w, h) { return [p.x - 8 - w, p.y - h / 2, w, h]; } }
  ];
  function overlap(a, b) { return a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3]; }
  var taken = buildingLabels.map(function (item) {
    var p = map.latLngToContainerPoint(item.at);
    return [p.x - item.width / 2, p.y - item.height / 2, item.width, item.height];
  });
  compoundMarkers.forEach(function (item) {
    var p = map.latLngToContainerPoint(item.marker.getLatLng());
    var width = textWidth(item.name, 12), height = 18;
    var side = SIDES[0], box = null;
    for (var i = 0; i < SIDES.length; i++) {
      var candidate = SIDES[i].box(p, width, height);
      if (!taken.some(function (other) { return overlap(candidate, other); })) { side = SIDES[i]; box = candidate; break; }
    }
    taken.push(box || side.box(p, width, height));
    item.marker.bindTooltip(item.name, {
      permanent: true, direction: side.direction, offset: side.offset, className: "compound-label", interactive: false
    });
  });
  container.setAttribute("data-grids-drawn", String(ordinary.length));
  container.setAttribute("data-dedicated-drawn", String(dedicated.length));
  container.setAttribute("data-basemap-drawn", String(basemapFeatures.length));
})();
