/* Yimi (一米) public child-friendly map.
 *
 * Places with category filters and search, a place's details, theme layers, curated routes,
 * "near me" by walking distance, trip planning, and a shareable link (state kept in the URL hash).
 * Vanilla ES2020 + Leaflet; every string goes through Django's JavaScript catalog (gettext).
 * Nothing is loaded from the internet: the basemap is Yimi's own data unless a tile server is set.
 */
(() => {
  'use strict';

  // ---- i18n -------------------------------------------------------------------------------
  const _ = (s) => (typeof window.gettext === 'function' ? window.gettext(s) : s);
  // Named ngettext so that makemessages (xgettext) finds the plural strings.
  // Chinese joins sentences without a space and lists with 、; English with a space and ", ".
  const isZh = (document.documentElement.lang || '').toLowerCase().startsWith('zh');
  const SENTENCE_SEP = isZh ? '' : ' ';
  const LIST_SEP = isZh ? '、' : ', ';
  const ngettext = (s, p, n) => (typeof window.ngettext === 'function' ? window.ngettext(s, p, n) : (n === 1 ? s : p));
  const fmt = (s, obj) => (typeof window.interpolate === 'function'
    ? window.interpolate(s, obj, true)
    : s.replace(/%\((\w+)\)s/g, (m, k) => String(obj[k])));

  // ---- configuration ------------------------------------------------------------------------
  const $ = (sel, root = document) => root.querySelector(sel);
  const mapEl = $('#map');
  if (!mapEl || typeof window.L === 'undefined') return;
  const L = window.L;
  let config = {};
  try { config = JSON.parse(mapEl.dataset.config || '{}'); } catch (e) { config = {}; }
  const API = (config.api || '/api/v1').replace(/\/$/, '');
  const WALK = Number(config.walkSpeed) || 60; // metres per minute
  const MAX_STOPS = Number(config.maxStops) || 12;
  const IS_STAFF = !!config.isStaff;
  const LANG = (document.documentElement.lang || 'zh-Hans');
  const EN = LANG.toLowerCase().startsWith('en');
  const OSM_ATTR = '© OpenStreetMap contributors';
  const phoneMQ = window.matchMedia('(max-width: 767px)');
  const SVGNS = 'http://www.w3.org/2000/svg';

  const CAT_COLORS = {
    park: '#2e7d32', playground: '#ef6c00', pocket_park: '#689f38', children_home: '#d81b60',
    library: '#6a1b9a', museum: '#3949ab', school: '#1565c0', kindergarten: '#b7791f',
    childcare: '#00897b', hospital: '#c62828', nursing_room: '#ad1457', sports: '#0097a7',
    study_base: '#6d4c41', protection_station: '#37474f', other: '#757575',
  };
  const categories = Array.isArray(config.categories) ? config.categories : [];
  const catLabels = new Map(categories.map((c) => [c.code, c.label]));
  const catColor = (code) => CAT_COLORS[code] || '#6b7280';
  const catIcon = (code) => (CAT_COLORS[code] ? code : 'other');
  const safeColor = (c, fallback = '#e4572e') => (/^#[0-9a-f]{3,8}$/i.test(c || '') ? c : fallback);
  const TRIP_COLOR = '#e4572e';
  const ROUTE_COLOR = '#7b2cbf';

  // ---- DOM helpers ------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v == null || v === false) continue;
        if (k === 'class') n.className = v;
        else if (k === 'text') n.textContent = v;
        else if (k === 'style') n.style.cssText = v;
        else if (k.startsWith('on') && typeof v === 'function') n.addEventListener(k.slice(2), v);
        else n.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children.flat()) {
      if (c == null || c === false) continue;
      n.append(c instanceof Node ? c : String(c));
    }
    return n;
  }
  function icon(name, cls = 'icon') {
    const svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('class', cls);
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const use = document.createElementNS(SVGNS, 'use');
    use.setAttribute('href', `#ic-${name}`);
    svg.append(use);
    return svg;
  }
  /** replaceChildren, skipping the null / false left by conditional parts. */
  const fill = (node, ...kids) => node.replaceChildren(...kids.flat().filter((k) => k != null && k !== false));
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
  const iconHTML = (name) => `<svg class="icon" aria-hidden="true" focusable="false"><use href="#ic-${esc(name)}"/></svg>`;
  const pinEl = (cat, cls = 'pin') => el('span', { class: cls, style: `--c:${catColor(cat)}` }, icon(catIcon(cat)));

  const panel = $('#panel');
  const panelScroll = $('#panel-scroll');
  const mainEl = panel.parentElement;
  const detailEl = $('#place-detail');
  const searchInput = $('#search-input');
  const chipsEl = $('#category-chips');
  const listEl = $('#place-list');
  const listStatus = $('#list-status');
  const nearbyEl = $('#nearby');
  const nearbyList = $('#nearby-results');
  const nearbyStatus = $('#nearby-status');
  const nearbyHeading = $('#nearby-heading');
  const radiusSel = $('#nearby-radius');
  const tray = $('#trip-tray');
  const tripStopsEl = $('#trip-stops');
  const tripCount = $('#trip-count');
  const tripHint = $('#trip-hint');
  const tripStartSel = $('#trip-start');
  const tripReturn = $('#trip-return');
  const planBtn = $('#plan-trip');
  const tripResult = $('#trip-result');
  const themeListEl = $('#theme-list');
  const routeListEl = $('#route-list');
  const routeDetail = $('#route-detail');
  const pickBtn = $('#pick-point');
  const nearMeBtn = $('#near-me');
  const shareBtn = $('#share');
  const banner = $('#pick-banner');
  const toastEl = $('#toast');

  // ---- formatting -------------------------------------------------------------------------
  function fmtDist(m) {
    if (!Number.isFinite(m)) return '–';
    if (m < 950) return fmt(_('%(n)s m'), { n: Math.max(10, Math.round(m / 10) * 10) });
    return fmt(_('%(n)s km'), { n: String(+(m / 1000).toFixed(m < 9950 ? 1 : 0)) });
  }
  function fmtDuration(min) {
    const total = Math.max(1, Math.round(min));
    if (total < 60) return fmt(ngettext('%(n)s min', '%(n)s min', total), { n: total });
    const h = Math.floor(total / 60);
    const m = total % 60;
    return m ? fmt(_('%(h)s h %(m)s min'), { h, m }) : fmt(ngettext('%(h)s hour', '%(h)s hours', h), { h });
  }
  const walkMinutes = (m) => m / WALK;
  const displayName = (p) => (EN && p.name_en ? p.name_en : p.name)
    || fmt(_('%(category)s (no name)'), { category: p.category_label || catLabels.get(p.category) || _('Place') });
  const altName = (p) => (EN ? (p.name_en && p.name !== p.name_en ? p.name : '') : (p.name_en || ''));
  const themeName = (t) => (EN && t.name_en ? t.name_en : t.name);
  const catLabel = (p) => p.category_label || catLabels.get(p.category) || p.category;

  // ---- messages -----------------------------------------------------------------------------
  let toastTimer = 0;
  function toast(msg, kind = 'info') {
    toastEl.textContent = msg;
    toastEl.dataset.kind = kind;
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastEl.hidden = true; }, kind === 'error' ? 7000 : 3500);
  }

  // ---- API ----------------------------------------------------------------------------------
  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : '';
  }
  async function api(path, { method = 'GET', body, signal } = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['X-CSRFToken'] = csrfToken();
    }
    let res;
    try {
      res = await fetch(API + path, {
        method, headers, signal, credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new Error(_('The server could not be reached. Check the connection and try again.'));
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const info = (data && data.error) || {};
      const err = new Error(info.message || fmt(_('The server answered with an error (%(status)s).'), { status: res.status }));
      err.status = res.status;
      err.details = info.details;
      throw err;
    }
    return data;
  }
  function query(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) u.set(k, v);
    return u.toString();
  }

  // ---- state --------------------------------------------------------------------------------
  const state = {
    cats: new Set(), q: '', place: null, trip: [], themes: new Set(), route: null,
  };
  const cache = new Map(); // place id → place
  let themes = [];
  let routes = [];
  let listData = null;
  let viewReady = false;
  let pickPurpose = null; // 'near' | 'trip'
  let pickedPoint = null; // L.LatLng
  let myLocation = null; // L.LatLng
  let nearPoint = null; // {latlng, source, place}
  let tripPlan = null;

  // ---- the map ------------------------------------------------------------------------------
  const bm = config.basemap || { kind: 'own' };
  const maxZoom = bm.kind === 'tiles' ? (bm.maxZoom || 19) : 19;
  const map = L.map(mapEl, { zoomControl: false, maxZoom, minZoom: 3, zoomSnap: 0.5, zoomDelta: 1, tapTolerance: 20 });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  L.control.zoom({ position: 'topright', zoomInTitle: _('Zoom in'), zoomOutTitle: _('Zoom out') }).addTo(map);
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  const zoomClass = () => {
    const z = map.getZoom();
    mapEl.classList.toggle('z-low', z < 14.5);
    mapEl.classList.toggle('z-mid', z >= 14.5 && z < 15.5);
  };
  map.on('zoomend', zoomClass);

  function pane(name, z, passive) {
    const p = map.createPane(name);
    p.style.zIndex = String(z);
    if (passive) p.style.pointerEvents = 'none';
    return p;
  }
  pane('bm-areas', 150, true);
  pane('bm-buildings', 160, true);
  pane('bm-roads', 170, true);
  pane('bm-labels', 380, true);
  pane('themes', 410);
  pane('near', 415, true);
  pane('routes', 420);
  pane('trip', 430);
  pane('highlight', 440, true);

  // Basemap ------------------------------------------------------------------------------------
  const ROAD = {
    motorway: [5, '#8f969e'], trunk: [5, '#8f969e'], primary: [4.5, '#9aa0a7'],
    secondary: [4, '#a3a9af'], tertiary: [3.4, '#aab0b6'],
    motorway_link: [3, '#9aa0a7'], trunk_link: [3, '#9aa0a7'], primary_link: [3, '#a3a9af'],
    secondary_link: [2.8, '#aab0b6'], tertiary_link: [2.5, '#b0b5bb'],
    residential: [2.5, '#b4b9be'], unclassified: [2.5, '#b4b9be'], living_street: [2.2, '#b9bdc2'],
    road: [2.2, '#b9bdc2'], service: [1.5, '#c2c6ca'], pedestrian: [1.8, '#bfc3c7'],
    footway: [1.1, '#c0c4c8', '3 3'], path: [1.1, '#c0c4c8', '3 3'], cycleway: [1.1, '#bcc6cc', '4 3'],
    steps: [1.4, '#b8bcc0', '2 2'], track: [1.1, '#c6bfb2', '4 3'], bridleway: [1, '#c6bfb2', '4 3'],
    platform: [1, '#cacdd1'], corridor: [1, '#cacdd1', '2 2'],
  };
  const roadStyle = (hw, z) => {
    const s = ROAD[hw] || [1.4, '#c4c7cb'];
    const k = Math.pow(1.4, z - 15);
    return {
      color: s[1], weight: Math.max(0.5, Math.min(s[0] * k, 16)), opacity: 1, fill: false,
      dashArray: z >= 15.5 ? (s[2] || null) : null, lineCap: 'round', lineJoin: 'round',
    };
  };
  const bmLayers = { areas: null, buildings: null, roads: null, roadLabels: null, areaLabels: null };

  function midpoint(coords) {
    return coords[Math.floor(coords.length / 2)];
  }
  function ringCentre(ring) {
    let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity;
    for (const [x, y] of ring) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
    return [(x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * (y1 - y0)];
  }
  function label(lonlat, text, cls) {
    return L.marker([lonlat[1], lonlat[0]], {
      pane: 'bm-labels', interactive: false, keyboard: false,
      icon: L.divIcon({ className: `bm-label ${cls}`, html: `<span>${esc(text)}</span>`, iconSize: null }),
    });
  }

  async function loadOwnBasemap() {
    const params = { kind: 'road,park,water,building' };
    if (Array.isArray(config.extent) && config.extent.length === 4) params.bbox = config.extent.join(',');
    const data = await api(`/basemap?${query(params)}`);
    const feats = (data && data.features) || [];
    const by = { road: [], park: [], water: [], building: [] };
    for (const f of feats) if (f && f.geometry && by[f.properties.kind]) by[f.properties.kind].push(f);
    const z = map.getZoom();
    const areaRenderer = L.canvas({ pane: 'bm-areas', padding: 0.4 });
    bmLayers.areas = L.geoJSON({ type: 'FeatureCollection', features: [...by.park, ...by.water] }, {
      renderer: areaRenderer, interactive: false,
      style: (f) => (f.properties.kind === 'park'
        ? { color: '#b7d9a8', weight: 1, fillColor: '#d3ebc7', fillOpacity: 1 }
        : (f.geometry.type.includes('Line')
          ? { color: '#9ccbe8', weight: 3, lineCap: 'round' }
          : { color: '#9ccbe8', weight: 1, fillColor: '#bfe0f3', fillOpacity: 1 })),
    }).addTo(map);
    bmLayers.buildings = L.geoJSON({ type: 'FeatureCollection', features: by.building }, {
      renderer: L.canvas({ pane: 'bm-buildings', padding: 0.4 }), interactive: false,
      style: { color: '#d6d1c8', weight: 0.8, fillColor: '#e6e2da', fillOpacity: 1 },
    });
    bmLayers.roads = L.geoJSON({ type: 'FeatureCollection', features: by.road }, {
      renderer: L.canvas({ pane: 'bm-roads', padding: 0.4 }), interactive: false,
      style: (f) => roadStyle(f.properties.highway, z),
    }).addTo(map);

    // Labels: one per street name in each ~500 m cell; park and water names at their centre.
    const seen = new Set();
    const roadLabels = [];
    const MAJOR = new Set(['motorway', 'trunk', 'primary', 'secondary', 'tertiary', 'residential',
      'unclassified', 'living_street', 'pedestrian', 'road']);
    for (const f of by.road) {
      const name = f.properties.name;
      if (!name || !MAJOR.has(f.properties.highway) || f.geometry.type !== 'LineString') continue;
      const c = f.geometry.coordinates;
      if (c.length < 2) continue;
      const m = midpoint(c);
      const key = `${name}|${Math.round(m[0] / 0.006)}|${Math.round(m[1] / 0.0045)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      roadLabels.push(label(m, name, 'road-label'));
    }
    bmLayers.roadLabels = L.layerGroup(roadLabels);
    const areaLabels = [];
    for (const f of [...by.park, ...by.water]) {
      const name = f.properties.name;
      if (!name || !f.geometry.type.endsWith('Polygon')) continue;
      const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
      const [x, y, size] = ringCentre(ring);
      if (size < 2e-6) continue;
      areaLabels.push(label([x, y], name, `area-label ${f.properties.kind}-label`));
    }
    bmLayers.areaLabels = L.layerGroup(areaLabels);
    updateBasemapForZoom();
  }
  function toggleLayer(layer, on) {
    if (!layer) return;
    if (on && !map.hasLayer(layer)) layer.addTo(map);
    if (!on && map.hasLayer(layer)) map.removeLayer(layer);
  }
  function updateBasemapForZoom() {
    const z = map.getZoom();
    toggleLayer(bmLayers.buildings, z >= 16);
    toggleLayer(bmLayers.roadLabels, z >= 16);
    toggleLayer(bmLayers.areaLabels, z >= 15);
    if (bmLayers.roads) bmLayers.roads.setStyle((f) => roadStyle(f.properties.highway, z));
  }

  function setupBasemap() {
    if (bm.kind === 'tiles' && bm.url) {
      const opts = { attribution: bm.attribution || OSM_ATTR, maxZoom: bm.maxZoom || 19 };
      if (bm.subdomains) opts.subdomains = bm.subdomains;
      L.tileLayer(bm.url, opts).addTo(map);
      if (bm.labels) L.tileLayer(bm.labels, { ...opts, attribution: '' }).addTo(map);
      if (!String(bm.attribution || '').includes('OpenStreetMap')) map.attributionControl.addAttribution(OSM_ATTR);
      mapEl.classList.add('tiles');
      return Promise.resolve();
    }
    const attr = String(bm.attribution || '');
    map.attributionControl.addAttribution(attr.includes('OpenStreetMap') ? attr : OSM_ATTR);
    mapEl.classList.add('own-basemap');
    map.on('zoomend', updateBasemapForZoom);
    return loadOwnBasemap();
  }

  // View helpers ------------------------------------------------------------------------------
  const isPhone = () => phoneMQ.matches;
  const DETAIL_W = 372;
  const SHEETS = ['peek', 'half', 'full'];
  const SHEET_PEEK = 184; // keep in step with map.css
  /** The height the sheet is (or is about to be, while it animates) on a phone. */
  function sheetPx() {
    const mh = mainEl.clientHeight;
    const s = panel.dataset.sheet;
    if (panel.classList.contains('dragging')) return panel.offsetHeight;
    return s === 'peek' ? SHEET_PEEK : s === 'full' ? mh - 56 : mh * 0.5;
  }
  function viewPadding() {
    if (isPhone()) return { paddingTopLeft: L.point(20, 20), paddingBottomRight: L.point(20, sheetPx() + 20) };
    const left = detailEl.hidden ? 24 : DETAIL_W + 24;
    return { paddingTopLeft: L.point(left, 24), paddingBottomRight: L.point(60, 24) };
  }
  function fitExtent() {
    const ext = config.extent;
    if (Array.isArray(ext) && ext.length === 4) {
      map.fitBounds([[ext[1], ext[0]], [ext[3], ext[2]]], viewPadding());
    } else if (Array.isArray(config.center) && config.center.length === 2) {
      map.setView([config.center[1], config.center[0]], 14);
    } else {
      map.setView([39.9042, 116.4074], 11);
    }
  }
  function fitTo(bounds, maxZ = 17) {
    if (!bounds || !bounds.isValid()) return;
    // No animation while a link is being opened: a running zoom animation would undo a later setView.
    map.fitBounds(bounds, { ...viewPadding(), maxZoom: maxZ, animate: initDone && !applyingHash });
  }
  /** Centre a point in the part of the map not covered by the sheet / the details card. */
  function focusPoint(latlng, zoom) {
    const z = Math.max(map.getZoom(), zoom || 16);
    let dx = 0; let dy = 0;
    if (isPhone()) dy = sheetPx() / 2;
    else if (!detailEl.hidden) dx = -(DETAIL_W + 12) / 2;
    const target = map.unproject(map.project(latlng, z).add(L.point(dx, dy)), z);
    map.setView(target, z, { animate: true });
  }

  // ---- place markers ------------------------------------------------------------------------
  const placeLayer = L.layerGroup().addTo(map);
  const highlightLayer = L.layerGroup().addTo(map);
  const markers = new Map();

  function pinIcon(p) {
    return L.divIcon({
      className: 'place-pin',
      html: `<span class="pin" style="--c:${catColor(p.category)}">${iconHTML(catIcon(p.category))}</span>`,
      iconSize: [30, 30], iconAnchor: [15, 15],
    });
  }
  function makeMarker(p) {
    const m = L.marker([p.lat, p.lon], { icon: pinIcon(p), title: displayName(p), keyboard: true, riseOnHover: true });
    m.on('click', () => selectPlace(p.id, { pan: false, focus: true }));
    m.on('add', () => decorateMarker(p.id));
    return m;
  }
  function renderMarkers(results) {
    placeLayer.clearLayers();
    markers.clear();
    for (const p of results) {
      const m = makeMarker(p);
      markers.set(p.id, m);
      placeLayer.addLayer(m);
    }
    decorateMarkers();
  }
  function decorateMarker(id) {
    const m = markers.get(id);
    const node = m && m.getElement();
    if (!node) return;
    node.classList.toggle('is-selected', state.place === id);
    node.classList.toggle('in-trip', state.trip.includes(id));
    m.setZIndexOffset(state.place === id ? 1000 : (state.trip.includes(id) ? 500 : 0));
  }
  function decorateMarkers() { for (const id of markers.keys()) decorateMarker(id); }

  // ---- category chips -----------------------------------------------------------------------
  const chipEls = new Map();
  function buildChips() {
    const all = el('button', { type: 'button', class: 'chip-all', 'data-category': '', 'aria-pressed': 'true' },
      el('span', { class: 'chip-label', text: _('All') }), el('span', { class: 'count', text: '' }));
    chipEls.set('', all);
    chipsEl.append(all);
    for (const c of categories) {
      const b = el('button', {
        type: 'button', class: 'category-chip', 'data-category': c.code, 'aria-pressed': 'false',
        style: `--c:${catColor(c.code)}`,
      }, el('span', { class: 'chip-icon' }, icon(catIcon(c.code))), el('span', { class: 'chip-label', text: c.label }),
      el('span', { class: 'count', text: '0' }));
      chipEls.set(c.code, b);
      chipsEl.append(b);
    }
    chipsEl.addEventListener('click', (e) => {
      const b = e.target.closest('.category-chip, .chip-all');
      if (!b) return;
      const code = b.dataset.category;
      if (!code) state.cats.clear();
      else if (state.cats.has(code)) state.cats.delete(code);
      else state.cats.add(code);
      updateChipStates();
      loadPlaces();
      writeHash();
    });
  }
  function updateChipStates() {
    for (const [code, b] of chipEls) {
      const on = code ? state.cats.has(code) : state.cats.size === 0;
      b.classList.toggle('active', on);
      b.setAttribute('aria-pressed', String(on));
      // Categories the city has no place in at all stay out of the way; others show 0, dimmed.
      if (code) {
        b.hidden = b.dataset.base === '0' && !on;
        b.classList.toggle('empty', b.dataset.n === '0');
      }
    }
  }
  function updateChipCounts(counts) {
    let total = 0;
    for (const [code, b] of chipEls) {
      if (!code) continue;
      const n = Number(counts[code] || 0);
      total += n;
      b.dataset.n = String(n);
      if (!state.q) b.dataset.base = String(n);
      $('.count', b).textContent = String(n);
      b.setAttribute('aria-label', fmt(_('%(label)s: %(n)s places'), { label: catLabels.get(code) || code, n }));
    }
    const all = chipEls.get('');
    $('.count', all).textContent = String(total);
    all.setAttribute('aria-label', fmt(_('All categories: %(n)s places'), { n: total }));
    updateChipStates();
  }

  // ---- list ---------------------------------------------------------------------------------
  function placeButton(p, cls = 'place-item', extra = null) {
    const inTrip = state.trip.includes(p.id);
    return el('button', { type: 'button', class: cls, 'data-id': p.id, 'aria-current': state.place === p.id ? 'true' : null },
      pinEl(p.category),
      el('span', { class: 'item-main' },
        el('span', { class: 'item-name', text: displayName(p) }),
        el('span', { class: 'item-sub', text: [catLabel(p), p.area_name].filter(Boolean).join(' · ') })),
      extra,
      p.verification === 'verified' ? el('span', { class: 'tag ok', title: _('Verified') }, icon('check'), el('span', { class: 'visually-hidden', text: _('Verified') })) : null,
      inTrip ? el('span', { class: 'tag trip', text: _('In trip') }) : null);
  }
  function renderList() {
    if (!listData) return;
    const { results, count } = listData;
    listEl.replaceChildren(...results.map((p) => el('li', null, placeButton(p))));
    let text;
    if (!count) text = state.q ? fmt(_('Nothing found for “%(q)s”. Try a shorter name.'), { q: state.q }) : _('No places match these filters.');
    else if (state.q) text = fmt(ngettext('%(n)s place matches “%(q)s”.', '%(n)s places match “%(q)s”.', count), { n: count, q: state.q });
    else text = fmt(ngettext('%(n)s place.', '%(n)s places.', count), { n: count });
    if (count > results.length) text += SENTENCE_SEP + `${fmt(_('Showing the first %(n)s; search or filter to narrow the list.'), { n: results.length })}`;
    listStatus.textContent = text;
  }

  let listAbort = null;
  async function loadPlaces({ fit = false } = {}) {
    if (listAbort) listAbort.abort();
    const ctrl = new AbortController();
    listAbort = ctrl;
    listEl.setAttribute('aria-busy', 'true');
    // Drop the old rows at once, so nothing stale can be tapped while the new list loads
    // (the height is kept for a moment so the panel does not jump).
    listEl.style.minHeight = `${listEl.offsetHeight}px`;
    listEl.replaceChildren();
    listStatus.textContent = _('Loading…');
    const params = { category: [...state.cats].join(','), q: state.q, page_size: 500 };
    try {
      const data = await api(`/places?${query(params)}`, { signal: ctrl.signal });
      for (const p of data.results) cache.set(p.id, p);
      listData = data;
      updateChipCounts(data.category_counts || {});
      renderList();
      renderMarkers(data.results);
      if (fit && data.results.length) {
        fitTo(L.latLngBounds(data.results.map((p) => [p.lat, p.lon])), 17);
      }
    } catch (e) {
      if (e.name === 'AbortError') return;
      listStatus.textContent = e.message;
      toast(e.message, 'error');
    } finally {
      if (listAbort === ctrl) {
        listEl.removeAttribute('aria-busy');
        listEl.style.minHeight = '';
      }
    }
  }

  // Search -------------------------------------------------------------------------------------
  let searchTimer = 0;
  function runSearch(immediate) {
    clearTimeout(searchTimer);
    const go = () => {
      const q = searchInput.value.trim();
      if (q === state.q) return;
      state.q = q;
      loadPlaces({ fit: !!q });
      writeHash();
    };
    if (immediate) go(); else searchTimer = setTimeout(go, 300);
  }
  searchInput.addEventListener('input', (e) => { if (!e.isComposing) runSearch(false); });
  searchInput.addEventListener('compositionend', () => runSearch(false));
  $('#search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    runSearch(true);
    if (isPhone()) searchInput.blur();
  });

  listEl.addEventListener('click', (e) => {
    const b = e.target.closest('.place-item');
    if (b) selectPlace(Number(b.dataset.id), { pan: true, focus: true });
  });

  // ---- details ------------------------------------------------------------------------------
  function fact(label, value, cls = '') {
    const empty = value == null || value === '';
    return el('div', { class: `fact ${cls}` }, el('dt', { text: label }),
      el('dd', { class: empty ? 'unknown' : null }, empty ? _('Not known') : value));
  }
  function agesText(p) {
    const a = p.age_min; const b = p.age_max;
    if (a != null && b != null) return fmt(_('Ages %(min)s–%(max)s'), { min: a, max: b });
    if (a != null) return fmt(_('From age %(min)s'), { min: a });
    if (b != null) return fmt(_('Up to age %(max)s'), { max: b });
    return '';
  }
  function feeText(fee) {
    if (fee === 'free') return _('Free');
    if (fee === 'paid') return _('Paid');
    return fee || '';
  }
  function sourceText(p) {
    const names = { osm: 'OpenStreetMap', table: _('Excel / CSV table'), geojson: _('GeoJSON file'), staff: _('Entered by staff') };
    const wrap = el('span', null, names[p.source] || p.source || _('Not known'));
    if (p.source === 'osm' && /^(node|way|relation)\/\d+$/.test(p.source_ref || '')) {
      const url = `https://www.openstreetmap.org/${p.source_ref}`;
      wrap.append(' · ', el('a', { href: url, rel: 'noopener noreferrer', target: '_blank', class: 'osm-link', text: url }));
    } else if (p.source_ref) {
      wrap.append(' · ', el('span', { class: 'ref', text: p.source_ref }));
    }
    return wrap;
  }
  function facility(name, label, value) {
    const stateText = value === true ? _('Yes') : value === false ? _('No') : _('Not known');
    const cls = value === true ? 'yes' : value === false ? 'no' : 'unknown';
    return el('li', { class: `facility ${cls}` }, icon(name), el('span', { class: 'facility-label', text: label }),
      el('span', { class: 'facility-state', text: stateText }));
  }

  function renderDetail(p) {
    const inTrip = state.trip.includes(p.id);
    const full = !inTrip && state.trip.length >= MAX_STOPS;
    const alt = altName(p);
    const verified = p.verification === 'verified';
    const themesOf = (p.themes || []).map((slug) => themes.find((t) => t.slug === slug)).filter(Boolean);

    const addBtn = el('button', {
      type: 'button', id: 'add-to-trip', class: inTrip ? 'in-trip' : 'primary', 'aria-pressed': String(inTrip),
      disabled: full, onclick: () => toggleTrip(p.id),
    }, icon(inTrip ? 'check' : 'plus'), el('span', { text: inTrip ? _('In trip – remove') : _('Add to trip') }));
    const nearBtn = el('button', { type: 'button', id: 'near-here', onclick: () => runNearby(L.latLng(p.lat, p.lon), 'place', p) },
      icon('locate'), el('span', { text: _('Near here') }));
    const actions = el('div', { class: 'detail-actions' }, addBtn, nearBtn,
      IS_STAFF ? el('a', { class: 'button', id: 'edit-place', href: `/map/staff/places/${p.id}/` }, icon('edit'), el('span', { text: _('Edit') })) : null);

    const website = p.website && /^https?:\/\//i.test(p.website)
      ? el('a', { href: p.website, rel: 'noopener noreferrer', target: '_blank', text: p.website.replace(/^https?:\/\//i, '') }) : null;
    const phone = p.phone ? el('a', { href: `tel:${p.phone.replace(/[^\d+]/g, '')}`, text: p.phone }) : null;

    fill(detailEl,
      el('div', { class: 'detail-head' },
        pinEl(p.category, 'pin big'),
        el('div', { class: 'detail-title' },
          el('h2', { id: 'detail-name', class: 'place-name', text: displayName(p) }),
          alt ? el('p', { class: 'detail-alt', lang: EN ? 'zh-Hans' : 'en', text: alt }) : null,
          el('p', { class: 'detail-cat', text: catLabel(p) })),
        el('button', { type: 'button', class: 'icon-button detail-close', 'aria-label': _('Close details'), onclick: () => closeDetail(true) }, icon('close'))),
      el('p', { class: `verify ${verified ? 'verified' : 'unverified'}` },
        icon(verified ? 'check' : 'info'),
        el('span', null, el('strong', { text: verified ? _('Verified') : _('Not yet verified') }), ' ',
          el('span', { class: 'verify-note', text: verified ? _('Checked by city staff.') : _('This information has not been checked by city staff yet; please confirm before you go.') }))),
      full ? el('p', { class: 'hint', text: fmt(_('The trip is full (%(n)s places).'), { n: MAX_STOPS }) }) : null,
      actions,
      el('dl', { class: 'facts' },
        fact(_('Address'), p.address),
        fact(_('Opening hours'), p.opening_hours),
        fact(_('Ages'), agesText(p)),
        fact(_('Fee'), feeText(p.fee)),
        p.capacity != null ? fact(_('Capacity'), String(p.capacity)) : null,
        phone ? fact(_('Phone'), phone) : null,
        website ? fact(_('Website'), website) : null,
        p.area_name ? fact(_('Area'), p.area_name) : null),
      el('h3', { class: 'detail-sub', text: _('Facilities') }),
      el('ul', { class: 'facilities' },
        facility('accessible', _('Barrier-free'), p.accessible),
        facility('nursing_room', _('Mother and baby room'), p.nursing_room),
        facility('family_toilet', _('Family toilet'), p.family_toilet)),
      p.description ? el('p', { class: 'description', text: p.description }) : null,
      themesOf.length ? el('p', { class: 'detail-themes' }, el('span', { class: 'muted', text: _('Themes:') }), ' ',
        themesOf.map((t) => el('span', { class: 'theme-tag', style: `--c:${safeColor(t.color)}`, text: themeName(t) }))) : null,
      el('p', { class: 'source' }, el('span', { class: 'muted', text: _('Source:') }), ' ', sourceText(p)),
      p.updated_at ? el('p', { class: 'updated muted', text: fmt(_('Updated %(date)s'), { date: new Date(p.updated_at).toLocaleDateString(LANG) }) }) : null,
    );
    detailEl.hidden = false;
    mainEl.classList.add('has-detail');
  }

  function highlight(p) {
    highlightLayer.clearLayers();
    if (!p) return;
    const color = catColor(p.category);
    if (p.geometry && p.geometry.type && p.geometry.type !== 'Point') {
      L.geoJSON(p.geometry, {
        pane: 'highlight', interactive: false,
        style: { color, weight: 3, dashArray: '6 5', fillColor: color, fillOpacity: 0.1 },
      }).addTo(highlightLayer);
    }
    if (!markers.has(p.id)) {
      // The place is not in the current (filtered) list: show it anyway while it is selected.
      const m = L.marker([p.lat, p.lon], { icon: pinIcon(p), title: displayName(p), keyboard: false, zIndexOffset: 1000 });
      m.on('add', () => { const n = m.getElement(); if (n) n.classList.add('is-selected'); });
      m.addTo(highlightLayer);
    }
  }

  async function selectPlace(id, { pan = true, focus = false } = {}) {
    if (!Number.isFinite(id)) return;
    let p = cache.get(id);
    if (!p) {
      try {
        p = await api(`/places/${id}`);
        cache.set(p.id, p);
      } catch (e) {
        toast(e.status === 404 ? _('That place is no longer on the map.') : e.message, 'error');
        if (state.place === id) { state.place = null; writeHash(); }
        return;
      }
    }
    const prev = state.place;
    state.place = p.id;
    renderDetail(p);
    highlight(p);
    if (prev != null) decorateMarker(prev);
    decorateMarker(p.id);
    for (const b of listEl.querySelectorAll('.place-item[aria-current]')) b.removeAttribute('aria-current');
    const cur = listEl.querySelector(`.place-item[data-id="${p.id}"]`);
    if (cur) cur.setAttribute('aria-current', 'true');
    if (isPhone()) {
      setSheet('half'); // the details at the top of the sheet, the place on the map above it
      panelScroll.scrollTo({ top: 0 });
    }
    if (pan) focusPoint(L.latLng(p.lat, p.lon), 16);
    if (focus) detailEl.focus({ preventScroll: true });
    writeHash();
  }
  function closeDetail(returnFocus) {
    const prev = state.place;
    state.place = null;
    detailEl.hidden = true;
    detailEl.replaceChildren();
    mainEl.classList.remove('has-detail');
    highlightLayer.clearLayers();
    if (prev != null) decorateMarker(prev);
    for (const b of listEl.querySelectorAll('.place-item[aria-current]')) b.removeAttribute('aria-current');
    if (returnFocus && prev != null) {
      const b = listEl.querySelector(`.place-item[data-id="${prev}"]`);
      if (b) b.focus({ preventScroll: true }); else searchInput.focus({ preventScroll: true });
    }
    writeHash();
  }

  // ---- themes -------------------------------------------------------------------------------
  const themeLayers = new Map();
  const themeRadius = () => { const z = map.getZoom(); return z < 14.5 ? 14 : z < 15.5 ? 17 : 21; };
  map.on('zoomend', () => {
    const r = themeRadius();
    for (const g of themeLayers.values()) g.eachLayer((c) => c.setRadius(r));
  });
  async function loadThemes() {
    try {
      themes = await api('/themes');
    } catch (e) {
      themeListEl.replaceChildren(el('li', { class: 'empty', text: e.message }));
      throw e;
    } finally {
      themeListEl.removeAttribute('aria-busy');
    }
    if (!themes.length) {
      themeListEl.replaceChildren(el('li', { class: 'empty', text: _('No themes yet.') }));
      return;
    }
    themeListEl.replaceChildren(...themes.map((t) => el('li', null,
      el('button', {
        type: 'button', class: 'theme-item', 'data-slug': t.slug, 'aria-pressed': 'false',
        style: `--c:${safeColor(t.color)}`, title: t.description || null,
      }, el('span', { class: 'swatch', 'aria-hidden': 'true' }), el('span', { class: 'chip-label', text: themeName(t) }),
      el('span', { class: 'count', text: String((t.place_ids || []).length) })))));
    if (state.place != null && cache.has(state.place)) renderDetail(cache.get(state.place));
  }
  themeListEl.addEventListener('click', (e) => {
    const b = e.target.closest('.theme-item');
    if (b) setTheme(b.dataset.slug, !state.themes.has(b.dataset.slug));
  });
  async function setTheme(slug, on) {
    const t = themes.find((x) => x.slug === slug);
    if (!t) return;
    const b = themeListEl.querySelector(`.theme-item[data-slug="${CSS.escape(slug)}"]`);
    if (on) state.themes.add(slug); else state.themes.delete(slug);
    if (b) { b.classList.toggle('active', on); b.setAttribute('aria-pressed', String(on)); }
    writeHash();
    const old = themeLayers.get(slug);
    if (old) { map.removeLayer(old); themeLayers.delete(slug); }
    if (!on) return;
    try {
      const data = await api(`/places?${query({ theme: slug, page_size: 500 })}`);
      if (!state.themes.has(slug)) return;
      const color = safeColor(t.color);
      const group = L.layerGroup(data.results.map((p) => {
        cache.set(p.id, p);
        const c = L.circleMarker([p.lat, p.lon], {
          pane: 'themes', radius: themeRadius(), color, weight: 3, fillColor: color, fillOpacity: 0.2, bubblingMouseEvents: false,
        });
        c.on('click', () => selectPlace(p.id, { pan: false, focus: true }));
        return c;
      }));
      themeLayers.set(slug, group);
      group.addTo(map);
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  // ---- curated routes -----------------------------------------------------------------------
  const routeLayer = L.layerGroup().addTo(map);
  function routeColor(r) {
    const t = r && r.theme ? themes.find((x) => x.slug === r.theme) : null;
    return t ? safeColor(t.color, ROUTE_COLOR) : ROUTE_COLOR;
  }
  function routeMeta(r) {
    const parts = [];
    if (r.length_m != null) parts.push(fmtDist(r.length_m));
    if (r.duration_min != null) parts.push(fmt(_('about %(t)s on foot'), { t: fmtDuration(r.duration_min) }));
    parts.push(fmt(ngettext('%(n)s stop', '%(n)s stops', r.stops.length), { n: r.stops.length }));
    return parts.join(' · ');
  }
  async function loadRoutes() {
    try {
      routes = await api('/routes');
    } catch (e) {
      routeListEl.replaceChildren(el('li', { class: 'empty', text: e.message }));
      throw e;
    } finally {
      routeListEl.removeAttribute('aria-busy');
    }
    if (!routes.length) {
      routeListEl.replaceChildren(el('li', { class: 'empty', text: _('No curated routes yet.') }));
      return;
    }
    routeListEl.replaceChildren(...routes.map((r) => el('li', null,
      el('button', { type: 'button', class: 'route-item', 'data-slug': r.slug, 'aria-pressed': 'false', style: `--c:${routeColor(r)}` },
        icon('route'),
        el('span', { class: 'item-main' }, el('span', { class: 'item-name', text: r.name }),
          el('span', { class: 'item-sub', text: routeMeta(r) }))))));
  }
  routeListEl.addEventListener('click', (e) => {
    const b = e.target.closest('.route-item');
    if (b) showRoute(state.route === b.dataset.slug ? null : b.dataset.slug, { fit: true });
  });
  function numberIcon(n, color, cls = '') {
    return L.divIcon({
      className: `num-pin ${cls}`, html: `<span style="--c:${color}">${esc(n)}</span>`,
      iconSize: [28, 28], iconAnchor: [14, 14],
    });
  }
  function drawPath(geom, color, layer, pathPane, dashed) {
    if (!geom) return null;
    const casing = L.geoJSON(geom, { pane: pathPane, interactive: false, style: { color: '#fff', weight: 9, opacity: 0.9, lineCap: 'round', lineJoin: 'round' } });
    const line = L.geoJSON(geom, {
      pane: pathPane, interactive: false,
      style: { color, weight: 5, opacity: 0.95, lineCap: 'round', lineJoin: 'round', dashArray: dashed ? '8 8' : null },
    });
    layer.addLayer(casing);
    layer.addLayer(line);
    return line;
  }
  function showRoute(slug, { fit = true } = {}) {
    routeLayer.clearLayers();
    const r = slug ? routes.find((x) => x.slug === slug) : null;
    state.route = r ? r.slug : null;
    for (const b of routeListEl.querySelectorAll('.route-item')) {
      const on = r != null && b.dataset.slug === r.slug;
      b.classList.toggle('active', on);
      b.setAttribute('aria-pressed', String(on));
    }
    writeHash();
    if (!r) { routeDetail.hidden = true; routeDetail.replaceChildren(); return; }
    const color = routeColor(r);
    const stopsGeom = { type: 'LineString', coordinates: r.stops.map((s) => [s.lon, s.lat]) };
    const line = drawPath(r.path && r.path.type ? r.path : stopsGeom, color, routeLayer, 'routes', !r.path || r.straight_line);
    r.stops.forEach((s, i) => {
      const m = L.marker([s.lat, s.lon], { icon: numberIcon(i + 1, color, 'is-route'), title: `${i + 1}. ${s.name}`, zIndexOffset: 800, keyboard: true });
      m.on('click', () => selectPlace(s.place_id, { pan: false, focus: true }));
      routeLayer.addLayer(m);
    });
    fill(routeDetail,
      el('div', { class: 'box-head' },
        el('h3', { text: r.name }),
        el('button', { type: 'button', class: 'icon-button', 'aria-label': _('Hide this route'), onclick: () => showRoute(null) }, icon('close'))),
      el('p', { class: 'route-meta', text: routeMeta(r) }),
      r.straight_line ? el('p', { class: 'warn', text: _('Part of this route has no walking path in the data; the line is straight there.') }) : null,
      r.description ? el('p', { class: 'description', text: r.description }) : null,
      el('ol', { class: 'route-stops' }, r.stops.map((s, i) => el('li', null,
        el('button', { type: 'button', class: 'link-like', onclick: () => selectPlace(s.place_id, { pan: true, focus: true }) },
          el('span', { class: 'num', style: `--c:${color}`, text: String(i + 1) }), el('span', { text: s.name }))))),
      el('button', {
        type: 'button', class: 'wide', onclick: () => {
          setTrip(r.stops.map((s) => s.place_id).slice(0, MAX_STOPS));
          toast(_('The route’s stops are now your trip. You can add or remove places and plan again.'));
          tray.scrollIntoView({ behavior: 'smooth', block: 'start' });
        },
      }, icon('plus'), el('span', { text: _('Use these stops as my trip') })),
    );
    routeDetail.hidden = false;
    if (fit && line) fitTo(line.getBounds(), 17);
  }

  // ---- near me / pick a point ---------------------------------------------------------------
  const nearLayer = L.layerGroup().addTo(map);
  const meLayer = L.layerGroup().addTo(map);

  function geolocate() {
    return new Promise((resolve, reject) => {
      if (!('geolocation' in navigator)) {
        reject(new Error(_('This browser cannot tell where you are. Pick a point on the map instead.')));
        return;
      }
      navigator.geolocation.getCurrentPosition(
        (pos) => resolve({ latlng: L.latLng(pos.coords.latitude, pos.coords.longitude), accuracy: pos.coords.accuracy }),
        (err) => reject(new Error(err && err.code === 1
          ? _('Permission to use your location was refused. Pick a point on the map instead.')
          : _('Your location could not be found. Pick a point on the map instead.'))),
        { enableHighAccuracy: true, timeout: 12000, maximumAge: 60000 },
      );
    });
  }
  function showMe(latlng, accuracy) {
    myLocation = latlng;
    meLayer.clearLayers();
    if (accuracy && accuracy < 2000) {
      L.circle(latlng, { pane: 'near', radius: accuracy, color: '#2563eb', weight: 1, fillOpacity: 0.08, interactive: false }).addTo(meLayer);
    }
    L.marker(latlng, {
      pane: 'markerPane', keyboard: false, interactive: false, zIndexOffset: 900,
      icon: L.divIcon({ className: 'me-dot', html: '<span></span>', iconSize: [22, 22], iconAnchor: [11, 11] }),
    }).addTo(meLayer);
  }
  function showPicked(latlng) {
    pickedPoint = latlng;
    nearLayer.eachLayer((l) => { if (l.options && l.options.isPicked) nearLayer.removeLayer(l); });
    L.marker(latlng, {
      isPicked: true, keyboard: false, interactive: false, zIndexOffset: 900,
      icon: L.divIcon({ className: 'picked-pin', html: iconHTML('pin'), iconSize: [34, 34], iconAnchor: [17, 32] }),
    }).addTo(nearLayer);
  }
  function outsideExtent(latlng) {
    const ext = config.extent;
    if (!Array.isArray(ext) || ext.length !== 4) return false;
    const pad = 0.02;
    return latlng.lng < ext[0] - pad || latlng.lng > ext[2] + pad || latlng.lat < ext[1] - pad || latlng.lat > ext[3] + pad;
  }

  let nearAbort = null;
  async function runNearby(latlng, source, place) {
    nearPoint = { latlng, source, place };
    const radius = Number(radiusSel.value) || 1000;
    nearbyEl.hidden = false;
    nearbyHeading.textContent = source === 'me' ? _('Near you')
      : source === 'place' ? fmt(_('Near %(name)s'), { name: displayName(place) }) : _('Near the point you picked');
    nearbyStatus.className = 'status';
    nearbyStatus.textContent = _('Searching…');
    nearbyList.replaceChildren();
    nearbyList.setAttribute('aria-busy', 'true');
    nearLayer.eachLayer((l) => { if (!(l.options && l.options.isPicked)) nearLayer.removeLayer(l); });
    const circle = L.circle(latlng, { pane: 'near', radius, color: '#2563eb', weight: 1.5, dashArray: '5 5', fillColor: '#2563eb', fillOpacity: 0.04, interactive: false });
    circle.addTo(nearLayer);
    if (isPhone()) ensureSheet('half');
    fitTo(circle.getBounds(), 17);
    if (nearAbort) nearAbort.abort();
    const ctrl = new AbortController();
    nearAbort = ctrl;
    try {
      const res = await api(`/places/nearby?${query({
        lat: latlng.lat.toFixed(6), lon: latlng.lng.toFixed(6), radius,
        category: [...state.cats].join(','), limit: 50,
      })}`, { signal: ctrl.signal });
      const results = res.results.filter((r) => !(place && r.place.id === place.id));
      const walking = res.distance === 'walking';
      const parts = [];
      if (!walking) {
        nearbyStatus.className = 'status warn';
        parts.push(_('Walking routes are not available here, so distances are in a straight line; the real walk is longer.'));
      }
      if (results.length) {
        const n = results.length;
        parts.push(fmt(walking
          ? ngettext('%(n)s place within %(r)s on foot, nearest first.', '%(n)s places within %(r)s on foot, nearest first.', n)
          : ngettext('%(n)s place within %(r)s, nearest first.', '%(n)s places within %(r)s, nearest first.', n),
        { n, r: fmtDist(res.radius_m || radius) }));
      } else {
        parts.push(fmt(walking
          ? _('Nothing within a %(r)s walk. Walks are often longer than the straight line the circle shows.')
          : _('Nothing within %(r)s.'), { r: fmtDist(res.radius_m || radius) }));
      }
      if (state.cats.size) parts.push(fmt(_('Only: %(cats)s.'), { cats: [...state.cats].map((c) => catLabels.get(c) || c).join(LIST_SEP) }));
      if (outsideExtent(latlng)) parts.push(_('This point is outside the area the map covers.'));
      nearbyStatus.textContent = parts.join(SENTENCE_SEP);
      const bigger = Array.from(radiusSel.options).find((o) => Number(o.value) > radius);
      if (!results.length && bigger) {
        nearbyStatus.append(' ', el('button', {
          type: 'button', class: 'text-button', onclick: () => {
            radiusSel.value = bigger.value;
            runNearby(latlng, source, place);
          },
        }, fmt(_('Search within %(r)s'), { r: fmtDist(Number(bigger.value)) })));
      }
      nearbyEl.dataset.distance = res.distance;
      nearbyList.replaceChildren(...results.map((r) => {
        cache.set(r.place.id, r.place);
        const d = walking ? r.distance_m : r.straight_m;
        const extra = el('span', { class: 'item-dist' },
          el('strong', { text: fmtDist(d) }),
          el('span', { text: walking ? fmt(_('%(t)s walk'), { t: fmtDuration(walkMinutes(d)) }) : _('straight line') }));
        return el('li', null, placeButton(r.place, 'nearby-item', extra));
      }));
      if (isPhone() || !nearbyEl.matches(':focus-within')) nearbyEl.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    } catch (e) {
      if (e.name === 'AbortError') return;
      nearbyStatus.className = 'status error';
      nearbyStatus.textContent = e.message;
    } finally {
      if (nearAbort === ctrl) nearbyList.removeAttribute('aria-busy');
    }
  }
  nearbyList.addEventListener('click', (e) => {
    const b = e.target.closest('.nearby-item');
    if (b) selectPlace(Number(b.dataset.id), { pan: true, focus: true });
  });
  radiusSel.addEventListener('change', () => { if (nearPoint) runNearby(nearPoint.latlng, nearPoint.source, nearPoint.place); });
  $('#nearby-close').addEventListener('click', () => {
    nearPoint = null;
    nearbyEl.hidden = true;
    nearbyList.replaceChildren();
    nearLayer.clearLayers();
    pickedPoint = null;
  });

  nearMeBtn.addEventListener('click', async () => {
    nearMeBtn.setAttribute('aria-busy', 'true');
    nearMeBtn.disabled = true;
    try {
      const { latlng, accuracy } = await geolocate();
      showMe(latlng, accuracy);
      await runNearby(latlng, 'me');
    } catch (e) {
      toast(e.message, 'error');
      startPick('near');
    } finally {
      nearMeBtn.disabled = false;
      nearMeBtn.removeAttribute('aria-busy');
    }
  });

  function startPick(purpose) {
    pickPurpose = purpose;
    mapEl.classList.add('picking');
    $('#pick-banner-text').textContent = purpose === 'trip'
      ? _('Tap the map where your trip starts.') : _('Tap the map to see what is near that point.');
    banner.hidden = false;
    pickBtn.setAttribute('aria-pressed', 'true');
    if (isPhone()) setSheet('peek');
  }
  function stopPick() {
    pickPurpose = null;
    mapEl.classList.remove('picking');
    banner.hidden = true;
    pickBtn.setAttribute('aria-pressed', 'false');
  }
  pickBtn.addEventListener('click', () => (pickPurpose ? stopPick() : startPick('near')));
  $('#pick-cancel').addEventListener('click', () => { stopPick(); if (isPhone()) setSheet('half'); });
  map.on('click', (e) => {
    if (!pickPurpose) return;
    const purpose = pickPurpose;
    stopPick();
    showPicked(e.latlng);
    if (isPhone()) setSheet('half');
    if (purpose === 'trip') {
      tripStartSel.value = 'picked';
      updateTripOptions();
      planTrip();
    } else {
      runNearby(e.latlng, 'picked');
    }
  });

  // ---- trip ---------------------------------------------------------------------------------
  const tripLayer = L.layerGroup().addTo(map);

  function clearPlan() {
    if (tripPlan) writeHash();
    tripPlan = null;
    tripLayer.clearLayers();
    tripResult.hidden = true;
  }
  function setTrip(ids) {
    const seen = new Set();
    state.trip = ids.filter((id) => Number.isFinite(id) && !seen.has(id) && seen.add(id)).slice(0, MAX_STOPS);
    clearPlan();
    renderTrip();
    ensureTripNames();
    writeHash();
  }
  function toggleTrip(id) {
    if (state.trip.includes(id)) {
      setTrip(state.trip.filter((x) => x !== id));
      toast(_('Removed from the trip.'));
    } else if (state.trip.length >= MAX_STOPS) {
      toast(fmt(_('The trip is full (%(n)s places).'), { n: MAX_STOPS }), 'error');
    } else {
      setTrip([...state.trip, id]);
      const n = state.trip.length;
      toast(n < 2 ? _('Added to the trip. Add at least one more place.')
        : fmt(ngettext('Added to the trip (%(n)s place).', 'Added to the trip (%(n)s places).', n), { n }));
    }
    // The details were drawn again: keep the keyboard focus on the (new) button.
    const btn = document.getElementById('add-to-trip');
    if (btn) btn.focus({ preventScroll: true });
  }
  async function ensureTripNames() {
    const missing = state.trip.filter((id) => !cache.has(id));
    if (!missing.length) return;
    const got = await Promise.allSettled(missing.map((id) => api(`/places/${id}`)));
    let gone = false;
    got.forEach((g, i) => {
      if (g.status === 'fulfilled') cache.set(g.value.id, g.value);
      else if (g.reason && g.reason.status === 404) gone = true;
      else if (g.status === 'rejected') cache.delete(missing[i]);
    });
    if (gone) {
      state.trip = state.trip.filter((id) => cache.has(id));
      toast(_('Some places of this trip are no longer on the map.'), 'error');
      writeHash();
    }
    renderTrip();
  }
  function updateTripOptions() {
    const hasStart = tripStartSel.value !== 'none';
    tripReturn.disabled = !hasStart;
    if (!hasStart) tripReturn.checked = false;
  }
  function renderTrip() {
    const n = state.trip.length;
    tray.hidden = n === 0;
    tripCount.textContent = `${n}/${MAX_STOPS}`;
    tripStopsEl.replaceChildren(...state.trip.map((id, i) => {
      const p = cache.get(id);
      const name = p ? displayName(p) : `#${id}`;
      return el('li', { class: 'trip-stop', 'data-id': id },
        el('span', { class: 'num', text: String(i + 1) }),
        el('button', { type: 'button', class: 'link-like stop-name', text: name, onclick: () => selectPlace(id, { pan: true, focus: true }) }),
        el('button', {
          type: 'button', class: 'icon-button remove', 'aria-label': fmt(_('Remove %(name)s from the trip'), { name }),
          onclick: () => setTrip(state.trip.filter((x) => x !== id)),
        }, icon('close')));
    }));
    tripHint.textContent = n < 2 ? _('Add at least two places (from the list or the map) to plan a trip.')
      : n >= MAX_STOPS ? fmt(_('The trip is full (%(n)s places).'), { n: MAX_STOPS })
        : fmt(_('You can add up to %(n)s places.'), { n: MAX_STOPS });
    planBtn.disabled = n < 2;
    decorateMarkers();
    renderList();
    if (state.place != null && cache.has(state.place) && !detailEl.hidden) renderDetail(cache.get(state.place));
  }
  tripStartSel.addEventListener('change', () => { updateTripOptions(); if (tripPlan) clearPlan(); });
  tripReturn.addEventListener('change', () => { if (tripPlan) clearPlan(); });
  $('#trip-clear').addEventListener('click', () => { setTrip([]); toast(_('The trip is empty now.')); });

  function drawTrip(res, start, fit = true) {
    tripLayer.clearLayers();
    const line = drawPath(res.path, TRIP_COLOR, tripLayer, 'trip', res.distance === 'straight_line');
    if (start) {
      L.marker(start, {
        zIndexOffset: 1100, keyboard: false, title: _('Start'),
        icon: L.divIcon({ className: 'num-pin is-start', html: `<span style="--c:${TRIP_COLOR}">${iconHTML('locate')}</span>`, iconSize: [28, 28], iconAnchor: [14, 14] }),
      }).addTo(tripLayer);
    }
    res.stops.forEach((p, i) => {
      const m = L.marker([p.lat, p.lon], { icon: numberIcon(i + 1, TRIP_COLOR, 'is-trip'), title: `${i + 1}. ${displayName(p)}`, zIndexOffset: 960, keyboard: true });
      m.on('click', () => selectPlace(p.id, { pan: false, focus: true }));
      tripLayer.addLayer(m);
    });
    if (line && fit) fitTo(line.getBounds(), 17);
  }
  function renderTripResult(res, start, returned) {
    tripResult.hidden = false;
    tripResult.classList.remove('error');
    $('.trip-length', tripResult).textContent = fmt(_('%(length)s · about %(time)s on foot'),
      { length: fmtDist(res.length_m), time: fmtDuration(res.duration_min) });
    const note = $('.trip-note', tripResult);
    note.className = res.distance === 'straight_line' ? 'trip-note warn' : 'trip-note';
    note.textContent = res.distance === 'straight_line'
      ? _('Walking paths are missing for part of this trip, so those parts are measured in a straight line; the real walk is longer.')
      : _('The shortest order to visit all the places, along walking paths.');
    const legs = res.legs || [];
    const off = start ? 0 : -1;
    $('.trip-order', tripResult).replaceChildren(...res.stops.map((p, i) => {
      const leg = legs[i + off];
      return el('li', { 'data-id': p.id },
        el('button', { type: 'button', class: 'link-like', text: displayName(p), onclick: () => selectPlace(p.id, { pan: true, focus: true }) }),
        leg ? el('span', { class: 'leg', text: fmt(i === 0 ? _('%(d)s from the start') : _('%(d)s from the previous stop'), { d: fmtDist(leg.length_m) }) }) : null);
    }));
    const extra = $('.trip-extra', tripResult);
    extra.replaceChildren();
    if (returned && legs.length) extra.append(fmt(_('Back to the start: %(d)s.'), { d: fmtDist(legs[legs.length - 1].length_m) }), ' ');
    if (IS_STAFF) {
      extra.append(el('a', { href: `/map/staff/routes/new/?places=${res.order.join(',')}`, text: _('Save as a curated route') }));
    }
  }
  async function planTrip({ fit = true } = {}) {
    if (state.trip.length < 2) {
      toast(_('Add at least two places to plan a trip.'), 'error');
      return;
    }
    let start = null;
    const mode = tripStartSel.value;
    if (mode === 'me') {
      try {
        const { latlng, accuracy } = await geolocate();
        showMe(latlng, accuracy);
        start = latlng;
      } catch (e) {
        toast(e.message, 'error');
        return;
      }
    } else if (mode === 'picked') {
      if (!pickedPoint) { startPick('trip'); return; }
      start = pickedPoint;
    }
    const returned = !!start && tripReturn.checked;
    planBtn.disabled = true;
    planBtn.setAttribute('aria-busy', 'true');
    try {
      const res = await api('/trips', {
        method: 'POST',
        body: { places: state.trip, start: start ? { lon: start.lng, lat: start.lat } : null, return_to_start: returned },
      });
      for (const p of res.stops) cache.set(p.id, p);
      state.trip = res.order.slice();
      renderTrip();
      tripPlan = res;
      tripPlan.fromStart = !!start;
      drawTrip(res, start, fit);
      renderTripResult(res, start, returned);
      writeHash();
      if (fit) tripResult.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    } catch (e) {
      clearPlan();
      tripResult.hidden = false;
      tripResult.classList.add('error');
      $('.trip-length', tripResult).textContent = '';
      $('.trip-note', tripResult).className = 'trip-note error';
      $('.trip-note', tripResult).textContent = e.message;
      $('.trip-order', tripResult).replaceChildren();
      $('.trip-extra', tripResult).replaceChildren();
    } finally {
      planBtn.removeAttribute('aria-busy');
      planBtn.disabled = state.trip.length < 2;
    }
  }
  planBtn.addEventListener('click', () => planTrip());

  // ---- the URL hash: the shareable state ----------------------------------------------------
  const enc = (s) => encodeURIComponent(s);
  function buildHash() {
    const parts = [];
    if (state.place != null) parts.push(`place=${state.place}`);
    if (state.cats.size) parts.push(`cat=${[...state.cats].map(enc).join(',')}`);
    if (state.q) parts.push(`q=${enc(state.q)}`);
    if (state.trip.length) parts.push(`trip=${state.trip.join(',')}`);
    if (tripPlan && !tripPlan.fromStart) parts.push('plan=1');
    if (state.themes.size) parts.push(`theme=${[...state.themes].map(enc).join(',')}`);
    if (state.route) parts.push(`route=${enc(state.route)}`);
    if (viewReady) {
      const c = map.getCenter();
      parts.push(`z=${+map.getZoom().toFixed(1)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
    }
    return parts.length ? `#${parts.join('&')}` : '';
  }
  function parseHash(hash) {
    const raw = {};
    for (const part of hash.replace(/^#/, '').split('&')) {
      if (!part) continue;
      const i = part.indexOf('=');
      raw[i < 0 ? part : part.slice(0, i)] = i < 0 ? '' : part.slice(i + 1);
    }
    const dec = (s) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch (e) { return s; } };
    const list = (s) => (s ? s.split(',').map(dec).map((x) => x.trim()).filter(Boolean) : []);
    const ints = (s) => list(s).map(Number).filter((n) => Number.isInteger(n) && n > 0);
    const out = {
      place: ints(raw.place)[0] ?? null,
      cats: list(raw.cat).filter((c) => catLabels.has(c)),
      q: raw.q ? dec(raw.q).trim() : '',
      trip: [...new Set(ints(raw.trip))].slice(0, MAX_STOPS),
      themes: list(raw.theme),
      route: raw.route ? dec(raw.route) : null,
      plan: raw.plan === '1',
      view: null,
    };
    if (raw.z) {
      const [z, lat, lon] = raw.z.split('/').map(Number);
      if ([z, lat, lon].every(Number.isFinite) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
        out.view = { z: Math.min(Math.max(z, 3), maxZoom), lat, lon };
      }
    }
    return out;
  }
  let hashTimer = 0;
  let lastHash = location.hash;
  let initDone = false;
  let hashDirty = false;
  let applyingHash = false;
  async function applyPendingHash() {
    applyingHash = true;
    try {
      while (hashDirty) {
        hashDirty = false;
        await applyState(parseHash(location.hash), false);
      }
    } finally {
      applyingHash = false;
    }
  }
  function flushHash() {
    clearTimeout(hashTimer);
    if (hashDirty || applyingHash) return; // a link being opened wins over the old state
    const h = buildHash();
    if (h !== location.hash) history.replaceState(null, '', h || `${location.pathname}${location.search}`);
    lastHash = location.hash;
  }
  function writeHash() {
    clearTimeout(hashTimer);
    hashTimer = setTimeout(flushHash, 150);
  }
  map.on('moveend', () => { if (viewReady) writeHash(); });

  /** Bring the page to the state a link describes (on load, or when the hash is changed by hand). */
  async function applyState(h, initial) {
    state.cats = new Set(h.cats);
    state.q = h.q;
    searchInput.value = h.q;
    updateChipStates();
    if (h.view) { map.stop(); map.setView([h.view.lat, h.view.lon], h.view.z, { animate: false }); }
    else if (initial) fitExtent();

    // Without a view in the link, show the places (not the whole imported extent, which often
    // has long roads far from any place); a route in the link is fitted instead.
    const jobs = [loadPlaces({ fit: !h.view && !h.place && !h.route && (initial || !!h.q) })];
    const themesReady = initial ? loadThemes() : Promise.resolve();
    const routesReady = initial ? Promise.all([themesReady.catch(() => null), loadRoutes()]) : Promise.resolve();
    jobs.push(themesReady.then(() => {
      for (const slug of [...state.themes]) if (!h.themes.includes(slug)) setTheme(slug, false);
      return Promise.all(h.themes.filter((s) => !themeLayers.has(s)).map((s) => setTheme(s, true)));
    }));
    jobs.push(routesReady.then(() => {
      if (h.route !== state.route || initial) showRoute(h.route, { fit: !h.view && !h.place });
    }));
    if (h.trip.join(',') !== state.trip.join(',')) {
      state.trip = h.trip;
      clearPlan();
      renderTrip();
      jobs.push(ensureTripNames());
    }
    await Promise.allSettled(jobs);
    if (h.plan && state.trip.length >= 2 && !tripPlan) {
      tripStartSel.value = 'none';
      updateTripOptions();
      await planTrip({ fit: !h.view && !h.place && !h.route });
    }
    if (h.place != null) await selectPlace(h.place, { pan: !h.view });
    else if (state.place != null) closeDetail(false);
  }
  window.addEventListener('hashchange', async () => {
    if (location.hash === lastHash) return;
    lastHash = location.hash;
    hashDirty = true;
    if (!initDone) return; // init() applies it when the first load is done
    mapEl.dataset.ready = '0';
    await applyPendingHash();
    flushHash();
    mapEl.dataset.ready = '1';
  });

  // ---- share --------------------------------------------------------------------------------
  async function copyText(text) {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        return true;
      }
    } catch (e) { /* fall through */ }
    const ta = el('textarea', { readonly: true, style: 'position:fixed;top:-1000px;opacity:0' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    ta.remove();
    return ok;
  }
  shareBtn.addEventListener('click', async () => {
    flushHash();
    const url = location.href;
    shareBtn.dataset.url = url;
    if (await copyText(url)) {
      toast(_('Link copied. Paste it into a chat to share this map.'));
      return;
    }
    if (navigator.share) {
      try { await navigator.share({ title: document.title, url }); return; } catch (e) { if (e.name === 'AbortError') return; }
    }
    window.prompt(_('Copy this link:'), url);
  });

  // ---- the bottom sheet (phones) ------------------------------------------------------------
  const handle = $('#sheet-handle');
  function updateSheetOffset() {
    mainEl.style.setProperty('--sheet-offset', isPhone() ? `${panel.offsetHeight}px` : '0px');
  }
  function setSheet(s) {
    panel.dataset.sheet = s;
    handle.setAttribute('aria-expanded', String(s !== 'peek'));
    updateSheetOffset();
  }
  function ensureSheet(min) {
    if (SHEETS.indexOf(panel.dataset.sheet) < SHEETS.indexOf(min)) setSheet(min);
  }
  panel.addEventListener('transitionend', (e) => { if (e.target === panel) updateSheetOffset(); });
  let drag = null;
  handle.addEventListener('pointerdown', (e) => {
    if (!isPhone()) return;
    drag = { y: e.clientY, h: panel.offsetHeight, moved: false };
    handle.setPointerCapture(e.pointerId);
    panel.classList.add('dragging');
  });
  handle.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const dy = drag.y - e.clientY;
    if (Math.abs(dy) > 6) drag.moved = true;
    if (!drag.moved) return;
    const max = mainEl.clientHeight - 24;
    panel.style.height = `${Math.max(96, Math.min(max, drag.h + dy))}px`;
  });
  function endDrag() {
    if (!drag) return;
    const d = drag;
    drag = null;
    panel.classList.remove('dragging');
    if (!d.moved) {
      const cur = panel.dataset.sheet;
      setSheet(cur === 'peek' ? 'half' : cur === 'half' ? 'full' : 'peek');
      return;
    }
    const h = panel.offsetHeight;
    panel.style.height = '';
    const mh = mainEl.clientHeight;
    const heights = [SHEET_PEEK, mh * 0.5, mh - 56];
    let best = 0;
    heights.forEach((x, i) => { if (Math.abs(x - h) < Math.abs(heights[best] - h)) best = i; });
    setSheet(SHEETS[best]);
  }
  handle.addEventListener('pointerup', endDrag);
  handle.addEventListener('pointercancel', endDrag);
  handle.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowUp') { e.preventDefault(); setSheet(SHEETS[Math.min(2, SHEETS.indexOf(panel.dataset.sheet) + 1)]); }
    if (e.key === 'ArrowDown') { e.preventDefault(); setSheet(SHEETS[Math.max(0, SHEETS.indexOf(panel.dataset.sheet) - 1)]); }
  });
  handle.addEventListener('click', (e) => {
    // Keyboard "click" (Enter/Space): pointer taps are handled in endDrag.
    if (e.detail === 0) {
      const cur = panel.dataset.sheet;
      setSheet(cur === 'peek' ? 'half' : cur === 'half' ? 'full' : 'peek');
    }
  });
  const onViewportChange = () => { updateSheetOffset(); map.invalidateSize(); };
  if (phoneMQ.addEventListener) phoneMQ.addEventListener('change', onViewportChange);
  window.addEventListener('resize', updateSheetOffset);

  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (pickPurpose) { stopPick(); return; }
    if (!detailEl.hidden && (detailEl.contains(document.activeElement) || document.activeElement === document.body)) closeDetail(true);
  });

  // ---- start --------------------------------------------------------------------------------
  async function init() {
    buildChips();
    updateSheetOffset();
    const basemapReady = setupBasemap().catch((e) => toast(e.message, 'error'));
    await Promise.allSettled([basemapReady, applyState(parseHash(location.hash), true)]);
    await applyPendingHash();
    initDone = true;
    viewReady = true;
    flushHash();
    mapEl.dataset.ready = '1';
  }
  init();
})();
