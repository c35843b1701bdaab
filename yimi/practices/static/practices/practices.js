/* The practice library's map: one label per city with its number of cases; a tap filters the
 * list to that city. Leaflet is served by Yimi (django-leaflet's files); tiles only when the
 * site has a tile server configured (YIMI_BASEMAP), otherwise a plain background. */
(function () {
  'use strict';
  const el = document.getElementById('prac-map');
  const cfgEl = document.getElementById('prac-config');
  if (!el || !cfgEl || !window.L) return;
  const cfg = JSON.parse(cfgEl.textContent);
  const points = cfg.points || [];
  const map = L.map(el, { zoomControl: true, minZoom: 3, maxZoom: 12, attributionControl: true, scrollWheelZoom: false });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  const bm = cfg.basemap || {};
  if (bm.kind === 'tiles' && bm.url) {
    const opts = { attribution: bm.attribution || '', maxZoom: bm.maxZoom || 18 };
    if (bm.subdomains) opts.subdomains = bm.subdomains;
    L.tileLayer(bm.url, opts).addTo(map);
    if (bm.labels) L.tileLayer(bm.labels, { ...opts, attribution: '' }).addTo(map);
  }
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const layer = L.featureGroup().addTo(map);
  for (const p of points) {
    const active = cfg.city && cfg.city === p.city;
    const icon = L.divIcon({
      className: `prac-city-icon${active ? ' active' : ''}`,
      html: `<span><i>${esc(p.city)}</i>${cfg.static ? '' : ` <b>${p.count}</b>`}</span>`,
      iconSize: null,
    });
    const m = L.marker([p.lat, p.lon], { icon, title: `${p.city}（${p.province}）`, keyboard: true, riseOnHover: true });
    m.on('click', () => {
      if (cfg.static) return;
      const url = new URL(window.location.href);
      url.searchParams.set('city', p.city);
      window.location.assign(url.toString());
    });
    m.addTo(layer);
  }
  // Labels that would cover one another fold to a dot with the count (the biggest city keeps
  // its name); zooming in unfolds them.
  function declutter() {
    const placed = [];
    layer.eachLayer((mk) => {
      const el = mk.getElement();
      if (!el) return;
      el.classList.remove('folded');
      const r = el.firstElementChild.getBoundingClientRect();
      const hit = placed.some((q) => r.left < q.right && r.right > q.left && r.top < q.bottom && r.bottom > q.top);
      if (hit) el.classList.add('folded');
      else placed.push(r);
    });
  }
  map.on('zoomend moveend', declutter);
  if (points.length === 1) map.setView([points[0].lat, points[0].lon], 6);
  else if (points.length) map.fitBounds(layer.getBounds(), { padding: [30, 30] });
  else map.setView([34.5, 108.9], 4);
  declutter();
}());
