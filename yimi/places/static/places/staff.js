/* Yimi staff pages: confirm risky buttons, export links by coordinate system, a filter box for
 * long multiple selects, and a small map to pick a place's position. Vanilla ES2020 + Leaflet. */
(() => {
  'use strict';

  const _ = (s) => (typeof window.gettext === 'function' ? window.gettext(s) : s);
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  // Forms that retire something ask first.
  for (const form of $$('form[data-confirm]')) {
    form.addEventListener('submit', (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  }

  // Export links follow the chosen coordinate system.
  const crsSel = $('#export-crs');
  if (crsSel) {
    const update = () => {
      for (const a of $$('a.export-link')) {
        const u = new URL(a.getAttribute('href'), window.location.href);
        u.searchParams.set('format', a.dataset.format);
        u.searchParams.set('crs', crsSel.value);
        a.setAttribute('href', `${u.pathname}${u.search}`);
      }
    };
    crsSel.addEventListener('change', update);
    update();
  }

  // A filter box above long multiple selects (a theme's places).
  for (const sel of $$('select[multiple]')) {
    if (sel.options.length < 8) continue;
    const box = document.createElement('input');
    box.type = 'search';
    box.className = 'select-filter';
    box.placeholder = _('Find by name…');
    box.setAttribute('aria-label', _('Find in the list below'));
    box.setAttribute('aria-controls', sel.id);
    box.style.marginBottom = '.4rem';
    const count = document.createElement('p');
    count.className = 'hint';
    count.setAttribute('aria-live', 'polite');
    const showCount = () => {
      const n = Array.from(sel.options).filter((o) => o.selected).length;
      count.textContent = window.interpolate
        ? window.interpolate(window.ngettext('%(n)s chosen', '%(n)s chosen', n), { n }, true)
        : `${n}`;
    };
    box.addEventListener('input', () => {
      const q = box.value.trim().toLowerCase();
      for (const o of sel.options) o.hidden = !!q && !o.textContent.toLowerCase().includes(q) && !o.selected;
    });
    sel.addEventListener('change', showCount);
    sel.before(box);
    sel.after(count);
    showCount();
  }

  // ---- the position picker on a place's edit page --------------------------------------------
  const mapEl = $('#pick-map');
  if (!mapEl || typeof window.L === 'undefined') return;
  const L = window.L;
  const api = (mapEl.dataset.api || '/api/v1').replace(/\/$/, '');
  const lonIn = document.getElementById(mapEl.dataset.lon);
  const latIn = document.getElementById(mapEl.dataset.lat);
  const crsIn = document.getElementById(mapEl.dataset.crs);
  const note = $('#pick-crs-note');
  const placeId = Number(mapEl.dataset.place) || null;
  if (!lonIn || !latIn) return;

  const map = L.map(mapEl, { maxZoom: 19, zoomSnap: 0.5 });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  map.attributionControl.addAttribution('© OpenStreetMap contributors');
  const current = () => {
    const lon = parseFloat(String(lonIn.value).replace(',', '.'));
    const lat = parseFloat(String(latIn.value).replace(',', '.'));
    return Number.isFinite(lon) && Number.isFinite(lat) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180
      ? L.latLng(lat, lon) : null;
  };
  const start = current();
  map.setView(start || [39.9042, 116.4074], start ? 16 : 11);

  const marker = L.marker(start || map.getCenter(), {
    draggable: true, keyboard: true, title: _('Position of the place'), autoPan: true,
    icon: L.divIcon({
      className: 'pick-marker',
      html: '<svg viewBox="0 0 24 24" width="36" height="36" aria-hidden="true"><path d="M12 22s-7-6.6-7-12a7 7 0 0 1 14 0c0 5.4-7 12-7 12z" fill="#e4572e" stroke="#fff" stroke-width="1.6"/><circle cx="12" cy="10" r="2.6" fill="#fff"/></svg>',
      iconSize: [36, 36], iconAnchor: [18, 34],
    }),
  });
  if (start) marker.addTo(map);

  const crsIsWgs = () => !crsIn || crsIn.value === 'wgs84';
  const showNote = () => { if (note) note.hidden = crsIsWgs() || !current(); };
  function write(latlng) {
    lonIn.value = latlng.lng.toFixed(7);
    latIn.value = latlng.lat.toFixed(7);
    if (crsIn) crsIn.value = 'wgs84';
    for (const inp of [lonIn, latIn, crsIn]) if (inp) inp.dispatchEvent(new Event('change', { bubbles: true }));
    showNote();
  }
  map.on('click', (e) => {
    marker.setLatLng(e.latlng);
    if (!map.hasLayer(marker)) marker.addTo(map);
    write(e.latlng);
  });
  marker.on('dragend', () => write(marker.getLatLng()));
  const follow = () => {
    const ll = current();
    showNote();
    if (!ll) return;
    marker.setLatLng(ll);
    if (!map.hasLayer(marker)) marker.addTo(map);
    if (!map.getBounds().pad(-0.1).contains(ll)) map.panTo(ll);
  };
  lonIn.addEventListener('input', follow);
  latIn.addEventListener('input', follow);
  if (crsIn) crsIn.addEventListener('change', showNote);
  showNote();

  let placesShown = false;
  // Yimi's own streets, parks and water as the background (works offline).
  const around = start
    ? [start.lng - 0.02, start.lat - 0.015, start.lng + 0.02, start.lat + 0.015].map((x) => x.toFixed(5)).join(',')
    : '';
  const qs = new URLSearchParams({ kind: 'road,park,water' });
  if (around) qs.set('bbox', around);
  fetch(`${api}/basemap?${qs}`, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
    .then((r) => (r.ok ? r.json() : null))
    .then((data) => {
      if (!data || !data.features) return;
      const renderer = L.canvas({ padding: 0.3 });
      const layer = L.geoJSON(data, {
        renderer, interactive: false,
        style: (f) => {
          const k = f.properties.kind;
          if (k === 'park') return { color: '#b7d9a8', weight: 1, fillColor: '#d3ebc7', fillOpacity: 1 };
          if (k === 'water') return { color: '#9ccbe8', weight: 1.5, fillColor: '#bfe0f3', fillOpacity: 1 };
          const major = /^(motorway|trunk|primary|secondary|tertiary)/.test(f.properties.highway || '');
          return { color: major ? '#9aa0a7' : '#bfc3c8', weight: major ? 3.5 : 1.6, fill: false };
        },
      }).addTo(map);
      layer.bringToBack();
      if (!start && !current() && layer.getBounds().isValid() && !placesShown) map.fitBounds(layer.getBounds());
    })
    .catch(() => { /* the picker still works without a background */ });

  // Other places as small dots, so staff can see duplicates before adding one.
  fetch(`${api}/places?${new URLSearchParams({ page_size: '500', ...(around ? { bbox: around } : {}) })}`,
    { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
    .then((r) => (r.ok ? r.json() : null))
    .then((data) => {
      if (!data || !data.results) return;
      placesShown = true;
      if (!start && !current() && data.results.length) {
        map.fitBounds(L.latLngBounds(data.results.map((p) => [p.lat, p.lon])), { padding: [20, 20], maxZoom: 16 });
      }
      for (const p of data.results) {
        if (p.id === placeId) continue;
        const label = document.createElement('span');
        label.textContent = p.name;
        L.circleMarker([p.lat, p.lon], { radius: 5, color: '#fff', weight: 1.5, fillColor: '#52606d', fillOpacity: 0.9, bubblingMouseEvents: true })
          .bindTooltip(label, { direction: 'top', offset: [0, -4] })
          .addTo(map);
      }
    })
    .catch(() => {});
})();
