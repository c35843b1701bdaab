/* Observer groups and co-building maps: the alliance's service items (public) and the point
 * picker of a service item (staff). Leaflet is served by Yimi; the background is Yimi's own
 * basemap (/api/v1/basemap), nothing is loaded from elsewhere. */
(function () {
  'use strict';

  function pad(b, f) {
    const dx = (b[2] - b[0]) * f || 0.005, dy = (b[3] - b[1]) * f || 0.005;
    return [b[0] - dx, b[1] - dy, b[2] + dx, b[3] + dy];
  }

  function addBasemap(map, bbox) {
    const q = new URLSearchParams({ kind: 'road,park,water', bbox: bbox.map((v) => v.toFixed(5)).join(',') });
    fetch('/api/v1/basemap?' + q.toString(), { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => {
        if (!data || !data.features) return;
        L.geoJSON(data, {
          interactive: false,
          style: (f) => {
            const k = f.properties && f.properties.kind;
            if (k === 'park') return { color: '#b7d9a8', weight: 1, fillColor: '#d3ebc7', fillOpacity: 1 };
            if (k === 'water') return { color: '#9ccbe8', weight: 2, fillColor: '#bfe0f3', fillOpacity: 1 };
            return { color: '#ffffff', weight: 2.5, opacity: 1 };
          },
        }).addTo(map).bringToBack();
      })
      .catch(() => {});
  }

  function esc(s) {
    const d = document.createElement('div');
    d.textContent = s == null ? '' : String(s);
    return d.innerHTML;
  }

  function alliance() {
    const el = document.getElementById('cb-map');
    const data = document.getElementById('cb-points');
    if (!el || !data || !window.L) return;
    const points = JSON.parse(data.textContent);
    const map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
    const group = L.featureGroup();
    for (const p of points) {
      const m = L.circleMarker([p.lat, p.lon], { radius: 9, color: '#ffffff', weight: 2, fillColor: '#e07b00', fillOpacity: 0.95 });
      m.bindPopup('<strong>' + esc(p.title) + '</strong><br>' + esc(p.member) + (p.place ? '<br>📍 ' + esc(p.place) : '') + (p.schedule ? '<br>🗓 ' + esc(p.schedule) : ''));
      m.addTo(group);
    }
    group.addTo(map);
    const b = group.getBounds();
    map.fitBounds(b.pad(0.15), { maxZoom: 17 });
    addBasemap(map, pad([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], 0.3));
  }

  function picker() {
    const el = document.getElementById('cb-pick');
    if (!el || !window.L) return;
    const lon = document.getElementById('id_lon'), lat = document.getElementById('id_lat');
    const ext = (el.dataset.extent || '').split(',').map(Number).filter((v) => !Number.isNaN(v));
    const map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
    let marker = null;
    function place(ll) {
      if (marker) marker.setLatLng(ll); else marker = L.marker(ll, { draggable: true }).addTo(map).on('dragend', () => place(marker.getLatLng()));
      lon.value = ll.lng.toFixed(6); lat.value = ll.lat.toFixed(6);
    }
    if (ext.length === 4) {
      map.fitBounds([[ext[1], ext[0]], [ext[3], ext[2]]]);
      addBasemap(map, ext);
      L.rectangle([[ext[1], ext[0]], [ext[3], ext[2]]], { color: '#e07b00', weight: 1, fill: false, interactive: false }).addTo(map);
    } else {
      map.setView([39.9, 116.4], 12);
    }
    if (lon.value && lat.value) place(L.latLng(Number(lat.value), Number(lon.value)));
    map.on('click', (e) => place(e.latlng));
  }

  document.addEventListener('DOMContentLoaded', () => { alliance(); picker(); });
})();
