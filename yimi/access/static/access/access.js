/* Yimi (一米) life-circle accessibility pages (staff).
 *
 * /access/            the analyses (with live progress), a form to start one, the child totals per
 *                     area, and planned facilities (placed on a map).
 * /access/runs/<id>/  one analysis: progress while it works; then coverage per rule and per area,
 *                     a chart, the H3 gap map with its legend, the worst-served places, downloads,
 *                     "where to build next", comparison with another analysis and safe routes to
 *                     school.
 * Vanilla ES2020 + Leaflet; charts are inline SVG drawn here; every string goes through Django's
 * JavaScript catalog (gettext). Nothing is loaded from the internet: the basemap is Yimi's own
 * streets, parks and water unless a tile server is configured (as on the public map).
 */
(() => {
  'use strict';

  const root = document.getElementById('access');
  if (!root) return;

  // ---- i18n -------------------------------------------------------------------------------
  const _ = (s) => (typeof window.gettext === 'function' ? window.gettext(s) : s);
  const ngettext = (s, p, n) => (typeof window.ngettext === 'function' ? window.ngettext(s, p, n) : (n === 1 ? s : p));
  const fmt = (s, obj) => (typeof window.interpolate === 'function'
    ? window.interpolate(s, obj, true)
    : s.replace(/%\((\w+)\)s/g, (m, k) => String(obj[k])));
  // Chinese joins sentences without a space and lists with 、; English with a space and ", ".
  const LANG = document.documentElement.lang || 'zh-Hans';
  const isZh = LANG.toLowerCase().startsWith('zh');
  const EN = !isZh;
  const SENTENCE_SEP = isZh ? '' : ' ';
  const LIST_SEP = isZh ? '、' : ', ';
  const LOCALE = isZh ? 'zh-CN' : 'en';
  const sentences = (...parts) => parts.filter(Boolean).join(SENTENCE_SEP);

  // ---- configuration ----------------------------------------------------------------------
  let config = {};
  try { config = JSON.parse(root.dataset.config || '{}'); } catch (e) { config = {}; }
  const API = (config.api || '/api/v1').replace(/\/$/, '');
  const BASE = (root.dataset.base || '/access/').replace(/\/?$/, '/');
  const URLS = config.urls || {};
  const runUrl = (id) => (URLS.run && URLS.run.includes('{id}') ? URLS.run.replace('{id}', id) : `${BASE}runs/${id}/`);
  const OSM_ATTR = '© OpenStreetMap contributors';
  const SVGNS = 'http://www.w3.org/2000/svg';
  const POLL_MS = 1500;
  const AGE_GROUPS = ['0-3', '3-6', '6-12', '12-15'];
  const AGE_LABELS = {
    '0-3': _('0–3 years (childcare)'),
    '3-6': _('3–6 years (pre-school)'),
    '6-12': _('6–12 years (primary)'),
    '12-15': _('12–15 years (middle school)'),
  };
  const AGE_SHORT = {
    '0-3': _('0–3 years'), '3-6': _('3–6 years'), '6-12': _('6–12 years'), '12-15': _('12–15 years'),
  };
  const LEVEL_NAMES = {
    0: _('Whole analysis area'), 1: _('City'), 2: _('District'), 3: _('Street'), 4: _('Community'), 5: _('Grid'),
  };
  const LEVEL_PLURAL = { 2: _('Districts'), 3: _('Streets'), 4: _('Communities'), 5: _('Grids') };
  const STATUS_LABELS = {
    queued: _('Queued'), running: _('Running'), done: _('Done'), failed: _('Failed'),
  };
  const CAT_COLORS = {
    park: '#2e7d32', playground: '#ef6c00', pocket_park: '#689f38', children_home: '#d81b60',
    library: '#6a1b9a', museum: '#3949ab', school: '#1565c0', kindergarten: '#b7791f',
    childcare: '#00897b', hospital: '#c62828', nursing_room: '#ad1457', sports: '#0097a7',
    study_base: '#6d4c41', protection_station: '#37474f', other: '#757575',
  };
  const catColor = (code) => CAT_COLORS[code] || '#6b7280';
  const categories = Array.isArray(config.categories) ? config.categories : [];
  const catLabels = new Map(categories.map((c) => [c.code, c.label]));

  // ---- DOM helpers ------------------------------------------------------------------------
  const $ = (sel, scope = document) => scope.querySelector(sel);
  const $$ = (sel, scope = document) => Array.from(scope.querySelectorAll(sel));
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
  function svg(tag, attrs, ...children) {
    const n = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'text') n.textContent = v;
      else n.setAttribute(k, String(v));
    }
    for (const c of children.flat()) if (c) n.append(c);
    return n;
  }
  const fill = (node, ...kids) => node.replaceChildren(...kids.flat().filter((k) => k != null && k !== false));
  const esc = (s) => String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
  const showError = (node, msg) => {
    if (!node) return;
    node.textContent = msg || '';
    node.hidden = !msg;
  };

  // ---- formatting -------------------------------------------------------------------------
  const num = (v) => (v == null || v === '' ? NaN : Number(v));
  const nf0 = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
  const fmtInt = (v) => (Number.isFinite(num(v)) ? nf0.format(Math.round(num(v))) : '–');
  function fmtPct(v) {
    const x = num(v);
    if (!Number.isFinite(x)) return '–';
    const digits = x > 0 && x < 0.1 ? 1 : 0;
    return new Intl.NumberFormat(LOCALE, { style: 'percent', maximumFractionDigits: digits }).format(x);
  }
  function fmtDist(m) {
    const x = num(m);
    if (!Number.isFinite(x)) return '–';
    if (x < 950) return fmt(_('%(n)s m'), { n: Math.round(x / 10) * 10 });
    return fmt(_('%(n)s km'), { n: String(+(x / 1000).toFixed(x < 9950 ? 1 : 0)) });
  }
  function fmtSeconds(sec) {
    if (sec < 0.95) return _('less than a second');
    const s = Math.max(0, Math.round(sec));
    if (s < 60) return fmt(ngettext('%(n)s second', '%(n)s seconds', s), { n: s });
    const m = Math.floor(s / 60);
    if (m < 60) return fmt(_('%(m)s min %(s)s s'), { m, s: s % 60 });
    return fmt(_('%(h)s h %(m)s min'), { h: Math.floor(m / 60), m: m % 60 });
  }
  function fmtWhen(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    const sameYear = d.getFullYear() === new Date().getFullYear();
    return d.toLocaleString(LOCALE, {
      year: sameYear ? undefined : 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit',
    });
  }
  const secondsBetween = (a, b) => {
    const t0 = a ? new Date(a).getTime() : NaN;
    const t1 = b ? new Date(b).getTime() : Date.now();
    return Number.isFinite(t0) && Number.isFinite(t1) ? Math.max(0, (t1 - t0) / 1000) : NaN;
  };
  const shareClass = (s) => (!Number.isFinite(num(s)) ? 'none' : s >= 0.8 ? 'good' : s >= 0.5 ? 'fair' : 'poor');

  // ---- messages ---------------------------------------------------------------------------
  const toastEl = $('#toast');
  let toastTimer = 0;
  function toast(msg, kind = 'info') {
    if (!toastEl) return;
    toastEl.textContent = msg;
    toastEl.dataset.kind = kind;
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastEl.hidden = true; }, kind === 'error' ? 8000 : 4000);
  }

  // ---- API --------------------------------------------------------------------------------
  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : '';
  }
  async function api(path, { method = 'GET', body, signal } = {}) {
    const headers = { Accept: 'application/json' };
    const isForm = typeof FormData !== 'undefined' && body instanceof FormData;
    if (method !== 'GET') headers['X-CSRFToken'] = csrfToken();
    if (body !== undefined && !isForm) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(API + path, {
        method, headers, signal, credentials: 'same-origin',
        body: body === undefined ? undefined : (isForm ? body : JSON.stringify(body)),
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new Error(_('The server could not be reached. Check the connection and try again.'));
    }
    let data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
    if (!res.ok) {
      const info = (data && data.error) || {};
      let msg = info.message || fmt(_('The server answered with an error (%(status)s).'), { status: res.status });
      const details = Array.isArray(info.details) ? info.details : [];
      const extra = details.map((d) => (d && typeof d === 'object' ? [d.field, d.message].filter(Boolean).join(': ') : String(d)))
        .filter(Boolean);
      if (extra.length) msg = `${msg}${isZh ? '' : ' '}(${extra.join(LIST_SEP)})`;
      const err = new Error(msg);
      err.status = res.status;
      err.code = info.code;
      throw err;
    }
    return data;
  }
  const qs = (params) => {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) u.set(k, v);
    return u.toString();
  };

  // ---- rules, areas -----------------------------------------------------------------------
  let rulePack = { walking_speed_m_per_min: 60, life_circles: [], rules: [] };
  const ruleById = new Map();
  function setRules(list) {
    if (!Array.isArray(list)) return;
    rulePack.rules = list;
    ruleById.clear();
    for (const r of list) if (r && r.id != null) ruleById.set(String(r.id), r);
  }
  // The page's configuration carries the rule pack (or just its rules).
  if (Array.isArray(config.rules)) setRules(config.rules);
  else if (config.rules && Array.isArray(config.rules.rules)) {
    rulePack = { ...rulePack, ...config.rules };
    setRules(config.rules.rules);
  }
  const rulesFromConfig = rulePack.rules.length > 0;
  const ruleText = (r) => (r ? ((EN && r.label_en) ? r.label_en : (r.label || r.label_zh || r.label_en || String(r.id))) : '');
  const ruleName = (id, fallback) => {
    const r = ruleById.get(String(id));
    return r ? ruleText(r) : (fallback || String(id));
  };
  const circleText = (minutes) => (minutes ? fmt(_('%(n)s-minute life circle'), { n: minutes }) : '');
  async function loadRules() {
    if (rulesFromConfig) return rulePack;
    try {
      const data = await api('/access/rules');
      if (data) {
        rulePack = { ...rulePack, ...data };
        setRules(data.rules);
      }
    } catch (e) { /* the rules from the page's configuration stay */ }
    return rulePack;
  }

  let areas = [];
  const areaByCode = new Map();
  /** The areas this user may analyse: from the page, else the access API, else the area tree. */
  async function loadAreas() {
    if (Array.isArray(config.areas)) areas = config.areas;
    else {
      try {
        areas = (await api('/access/areas')) || [];
      } catch (e) {
        try { areas = (await api('/areas')) || []; } catch (e2) { areas = []; }
      }
    }
    areaByCode.clear();
    for (const a of areas) areaByCode.set(a.code, a);
    return areas;
  }
  function areaText(area, name) {
    if (name) return name;
    if (area == null || area === '') return _('Whole city');
    if (typeof area === 'object') return area.name || area.code || _('Whole city');
    const a = areaByCode.get(String(area));
    return a ? a.name : String(area);
  }

  // ---- small shared widgets ---------------------------------------------------------------
  function statusBadge(status) {
    return el('span', { class: `badge status status-${status || 'unknown'}`, text: STATUS_LABELS[status] || status || '' });
  }
  const generatedBadge = () => el('span', {
    class: 'badge generated', text: _('Generated data'),
    title: _('The children in this analysis were generated for testing, not counted.'),
  });
  function progressBar(status, progress, label) {
    const p = Math.max(0, Math.min(100, Number(progress) || 0));
    const bar = el('span', { class: 'bar', style: `width:${status === 'queued' ? 100 : p}%` });
    return el('span', {
      class: `progress${status === 'queued' ? ' indeterminate' : ''}`, role: 'progressbar',
      'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': status === 'queued' ? null : Math.round(p),
      'aria-label': label || _('Progress of the analysis'),
    }, bar);
  }
  function setProgress(node, status, progress) {
    const p = Math.max(0, Math.min(100, Number(progress) || 0));
    node.classList.toggle('indeterminate', status === 'queued');
    if (status === 'queued') node.removeAttribute('aria-valuenow');
    else node.setAttribute('aria-valuenow', String(Math.round(status === 'done' ? 100 : p)));
    const bar = node.querySelector('.bar');
    if (bar) bar.style.width = `${status === 'queued' || status === 'done' ? 100 : p}%`;
  }
  function stageText(run) {
    if (run.status === 'queued') return ''; // the status says it: waiting to start
    return run.stage ? String(run.stage) : '';
  }

  // ---- maps -------------------------------------------------------------------------------
  const L = window.L;
  const bm = config.basemap || { kind: 'own' };
  const ROAD = {
    motorway: [5, '#8f969e'], trunk: [5, '#8f969e'], primary: [4.5, '#9aa0a7'],
    secondary: [4, '#a3a9af'], tertiary: [3.4, '#aab0b6'],
    motorway_link: [3, '#9aa0a7'], trunk_link: [3, '#9aa0a7'], primary_link: [3, '#a3a9af'],
    secondary_link: [2.8, '#aab0b6'], tertiary_link: [2.5, '#b0b5bb'],
    residential: [2.5, '#b4b9be'], unclassified: [2.5, '#b4b9be'], living_street: [2.2, '#b9bdc2'],
    road: [2.2, '#b9bdc2'], service: [1.5, '#c2c6ca'], pedestrian: [1.8, '#bfc3c7'],
    footway: [1.1, '#c0c4c8', '3 3'], path: [1.1, '#c0c4c8', '3 3'], cycleway: [1.1, '#bcc6cc', '4 3'],
    steps: [1.4, '#b8bcc0', '2 2'], track: [1.1, '#c6bfb2', '4 3'],
  };
  const roadStyle = (hw, z) => {
    const s = ROAD[hw] || [1.4, '#c4c7cb'];
    const k = Math.pow(1.4, z - 15);
    return {
      color: s[1], weight: Math.max(0.5, Math.min(s[0] * k, 16)), opacity: 1, fill: false,
      dashArray: z >= 15.5 ? (s[2] || null) : null, lineCap: 'round', lineJoin: 'round',
    };
  };
  const MAJOR_ROADS = new Set(['motorway', 'trunk', 'primary', 'secondary', 'tertiary', 'residential',
    'unclassified', 'living_street', 'pedestrian', 'road']);

  function makeMap(node, opts = {}) {
    const maxZoom = bm.kind === 'tiles' ? (bm.maxZoom || 19) : 19;
    const map = L.map(node, { zoomControl: false, maxZoom, minZoom: 3, zoomSnap: 0.5, tapTolerance: 20, ...opts });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    L.control.zoom({ position: 'topright', zoomInTitle: _('Zoom in'), zoomOutTitle: _('Zoom out') }).addTo(map);
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
    const pane = (name, z, passive) => {
      const p = map.createPane(name);
      p.style.zIndex = String(z);
      if (passive) p.style.pointerEvents = 'none';
    };
    pane('bm-areas', 150, true);
    pane('hex', 155);
    pane('bm-buildings', 160, true);
    pane('bm-roads', 170, true);
    pane('bm-labels', 380, true);
    return map;
  }

  const basemapCache = new Map();
  function basemapData(bbox) {
    const key = bbox || '';
    if (!basemapCache.has(key)) {
      const params = { kind: 'road,park,water,building' };
      if (bbox) params.bbox = bbox;
      basemapCache.set(key, api(`/basemap?${qs(params)}`).catch(() => null));
    }
    return basemapCache.get(key);
  }
  const boundsBbox = (b) => [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((x) => x.toFixed(5)).join(',');
  function extentBbox() {
    const e = config.extent;
    return Array.isArray(e) && e.length === 4 ? e.map((x) => Number(x).toFixed(5)).join(',') : '';
  }

  /** Yimi's own basemap (or the configured tile server) under a map; resolves when drawn. */
  async function addBasemap(map, bbox) {
    if (bm.kind === 'tiles' && bm.url) {
      const opts = { attribution: bm.attribution || OSM_ATTR, maxZoom: bm.maxZoom || 19 };
      if (bm.subdomains) opts.subdomains = bm.subdomains;
      L.tileLayer(bm.url, opts).addTo(map);
      if (bm.labels) L.tileLayer(bm.labels, { ...opts, attribution: '' }).addTo(map);
      if (!String(bm.attribution || '').includes('OpenStreetMap')) map.attributionControl.addAttribution(OSM_ATTR);
      return null;
    }
    const attr = String(bm.attribution || '');
    map.attributionControl.addAttribution(attr.includes('OpenStreetMap') ? attr : OSM_ATTR);
    map.getContainer().classList.add('own-basemap');
    const data = await basemapData(bbox);
    const feats = (data && data.features) || [];
    const by = { road: [], park: [], water: [], building: [] };
    for (const f of feats) if (f && f.geometry && f.properties && by[f.properties.kind]) by[f.properties.kind].push(f);
    L.geoJSON({ type: 'FeatureCollection', features: [...by.park, ...by.water] }, {
      renderer: L.canvas({ pane: 'bm-areas', padding: 0.4 }), interactive: false,
      style: (f) => (f.properties.kind === 'park'
        ? { color: '#b7d9a8', weight: 1, fillColor: '#d3ebc7', fillOpacity: 1 }
        : (f.geometry.type.includes('Line')
          ? { color: '#9ccbe8', weight: 3, lineCap: 'round' }
          : { color: '#9ccbe8', weight: 1, fillColor: '#bfe0f3', fillOpacity: 1 })),
    }).addTo(map);
    const buildings = L.geoJSON({ type: 'FeatureCollection', features: by.building }, {
      renderer: L.canvas({ pane: 'bm-buildings', padding: 0.4 }), interactive: false,
      style: { color: '#d6d1c8', weight: 0.8, fillColor: '#e6e2da', fillOpacity: 1 },
    });
    const roads = L.geoJSON({ type: 'FeatureCollection', features: by.road }, {
      renderer: L.canvas({ pane: 'bm-roads', padding: 0.4 }), interactive: false,
      style: (f) => roadStyle(f.properties.highway, map.getZoom()),
    }).addTo(map);
    const seen = new Set();
    const labels = [];
    for (const f of by.road) {
      const name = f.properties.name;
      if (!name || !MAJOR_ROADS.has(f.properties.highway) || f.geometry.type !== 'LineString') continue;
      const c = f.geometry.coordinates;
      if (c.length < 2) continue;
      const m = c[Math.floor(c.length / 2)];
      const key = `${name}|${Math.round(m[0] / 0.006)}|${Math.round(m[1] / 0.0045)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      labels.push(L.marker([m[1], m[0]], {
        pane: 'bm-labels', interactive: false, keyboard: false,
        icon: L.divIcon({ className: 'bm-label', html: `<span>${esc(name)}</span>`, iconSize: null }),
      }));
    }
    const roadLabels = L.layerGroup(labels);
    const update = () => {
      const z = map.getZoom();
      const toggle = (layer, on) => {
        if (on && !map.hasLayer(layer)) layer.addTo(map);
        if (!on && map.hasLayer(layer)) map.removeLayer(layer);
      };
      toggle(buildings, z >= 16);
      toggle(roadLabels, z >= 16);
      roads.setStyle((f) => roadStyle(f.properties.highway, z));
    };
    map.on('zoomend', update);
    update();
    return roads.getBounds();
  }
  function numberIcon(n, cls = '') {
    return L.divIcon({
      className: `num-pin ${cls}`, html: `<span>${esc(n)}</span>`, iconSize: [30, 30], iconAnchor: [15, 15],
    });
  }
  function facilityMarker(p, pane = 'markerPane') {
    const m = L.circleMarker([p.lat, p.lon], {
      radius: 6.5, color: '#fff', weight: 2, fillColor: catColor(p.category), fillOpacity: 1, pane,
    });
    const label = (EN && p.name_en) ? p.name_en : (p.name || p.category_label || catLabels.get(p.category) || '');
    if (label) m.bindTooltip(label, { direction: 'top', offset: [0, -6] });
    return m;
  }
  const latlngOK = (lat, lon) => Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
  const isPhone = () => window.matchMedia('(max-width: 767px)').matches;
  function scrollIntoViewIfNeeded(node) {
    const r = node.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) node.scrollIntoView({ behavior: 'smooth', block: 'center' });
  }

  // =========================================================================================
  // The list of analyses, the form, the child totals and the planned facilities (/access/)
  // =========================================================================================
  async function initIndex() {
    const runsList = $('#runs-list');
    const runsStatus = $('#runs-status');
    const form = $('#new-run-form');
    const areaSel = $('#run-area');
    const ruleList = $('#rule-options');
    const demandSel = $('#run-demand');
    const startBtn = $('#start-run');
    const formError = $('#new-run-error');
    let me = null;
    let runs = [];
    let pollTimer = 0;
    const SUMMARY_RULES = 4;
    const RUNS_SHOWN = 5;
    let showAllRuns = false;

    // The analyses, polled while one of them works. ------------------------------------------
    function runSummary(run) {
      const s = run.summary || {};
      const rows = Array.isArray(s.rules) ? s.rules : [];
      if (!rows.length) return null;
      return el('span', { class: 'run-summary' },
        s.children != null ? el('span', { class: 'run-children', text: fmt(_('%(n)s children'), { n: fmtInt(s.children) }) }) : null,
        // The least covered first: those are what a planner looks for.
        rows.slice().sort((a, b) => (num(a.share) || 0) - (num(b.share) || 0)).slice(0, SUMMARY_RULES)
          .map((r) => el('span', { class: `mini share-${shareClass(num(r.share))}` },
            el('span', { class: 'mini-label', text: ruleName(r.rule, r.label) }),
            el('strong', { text: fmtPct(r.share) }))),
        rows.length > SUMMARY_RULES ? el('span', { class: 'mini more', text: fmt(_('+%(n)s more'), { n: rows.length - SUMMARY_RULES }) }) : null);
    }
    function runItem(run) {
      const working = run.status === 'queued' || run.status === 'running';
      const when = run.finished_at || run.started_at || run.created_at;
      return el('li', { class: `run-item status-${run.status}`, 'data-id': run.id, 'data-status': run.status },
        el('a', { class: 'run-link', href: runUrl(run.id) },
          el('span', { class: 'run-head' },
            el('strong', { class: 'run-name', text: fmt(_('Analysis #%(id)s'), { id: run.id }) }),
            el('span', { class: 'run-area', text: areaText(run.area, run.area_name) }),
            statusBadge(run.status),
            run.generated_demand ? generatedBadge() : null),
          el('span', { class: 'run-when hint', text: fmtWhen(run.created_at || when) }),
          working ? el('span', { class: 'run-progress' },
            progressBar(run.status, run.progress, fmt(_('Progress of analysis #%(id)s'), { id: run.id })),
            el('span', { class: 'run-stage hint', text: run.status === 'running'
              ? sentences(fmt(_('%(p)s done.'), { p: fmtPct((Number(run.progress) || 0) / 100) }), stageText(run))
              : _('Waiting to start…') })) : null,
          run.status === 'done' ? runSummary(run) : null,
          run.status === 'failed' ? el('span', { class: 'run-error', text: run.error || _('The analysis failed.') }) : null));
    }
    function renderRuns() {
      runsList.removeAttribute('aria-busy');
      if (!runs.length) {
        fill(runsList, el('li', { class: 'empty' }, _('No analyses yet. Choose the area and facilities, then start one.')));
        return;
      }
      const old = new Map($$('.run-item', runsList).map((li) => [li.dataset.id, li]));
      // The newest few (and any that are working); the rest behind a button.
      const shown = showAllRuns ? runs : runs.filter((r, i) => i < RUNS_SHOWN || r.status === 'queued' || r.status === 'running');
      const items = shown.map((run) => {
        const li = old.get(String(run.id));
        if (li && li.dataset.status === run.status && (run.status === 'running' || run.status === 'queued')) {
          // Update in place so that the bar moves smoothly.
          const bar = $('.progress', li);
          if (bar) setProgress(bar, run.status, run.progress);
          const st = $('.run-stage', li);
          if (st) {
            st.textContent = run.status === 'running'
              ? sentences(fmt(_('%(p)s done.'), { p: fmtPct((Number(run.progress) || 0) / 100) }), stageText(run))
              : _('Waiting to start…');
          }
          return li;
        }
        return runItem(run);
      });
      const hidden = runs.length - shown.length;
      fill(runsList, items, hidden > 0 ? el('li', { class: 'runs-more' },
        el('button', { type: 'button', class: 'small', id: 'runs-more', onclick: () => { showAllRuns = true; renderRuns(); } },
          fmt(ngettext('Show %(n)s older analysis', 'Show %(n)s older analyses', hidden), { n: hidden }))) : null);
    }
    async function refreshRuns() {
      clearTimeout(pollTimer);
      try {
        const data = await api('/access/runs');
        runs = (Array.isArray(data) ? data : (data && data.results) || []).slice()
          .sort((a, b) => (b.id || 0) - (a.id || 0));
        renderRuns();
        const working = runs.filter((r) => r.status === 'queued' || r.status === 'running').length;
        runsStatus.textContent = working ? fmt(ngettext('%(n)s working', '%(n)s working', working), { n: working }) : '';
        if (working) pollTimer = setTimeout(refreshRuns, document.hidden ? 5000 : POLL_MS);
      } catch (e) {
        runsList.removeAttribute('aria-busy');
        runsStatus.textContent = e.message;
        pollTimer = setTimeout(refreshRuns, 5000);
      }
    }

    // The form. ------------------------------------------------------------------------------
    const userArea = () => (config.userArea !== undefined ? config.userArea : (me && me.area) || null);
    /** The user's own area and the areas below it (all areas for administrators). */
    function myAreas() {
      if (Array.isArray(config.areas)) return areas; // the page gives them already scoped
      const own = userArea();
      if (!own || (me && me.role === 'admin')) return areas;
      return areas.filter((a) => {
        let x = a;
        for (let i = 0; x && i < 8; i += 1) {
          if (x.code === own) return true;
          x = areaByCode.get(x.parent);
        }
        return false;
      });
    }
    function renderAreas() {
      const mine = myAreas().filter((a) => a.level >= 1 && a.level <= 4);
      const top = mine.length ? Math.min(...mine.map((a) => a.level)) : 1;
      const opts = mine.map((a) => el('option', { value: a.code },
        `${'\u3000'.repeat(Math.max(0, a.level - top))}${a.name}`));
      // Without an own area (administrators) the whole city can be analysed.
      const own = userArea();
      fill(areaSel, own && opts.length ? null : el('option', { value: '' }, _('Whole city')), opts);
      if (own && areaByCode.has(own)) areaSel.value = own;
    }
    function ruleMeta(r) {
      const parts = [fmtDist(r.threshold_m)];
      if (r.life_circle) parts.push(circleText(r.life_circle));
      const groups = r.age_groups || [];
      const idx = groups.map((g) => AGE_GROUPS.indexOf(g));
      const contiguous = groups.length > 1 && idx.every((v, i) => v >= 0 && (i === 0 || v === idx[i - 1] + 1));
      if (contiguous) {
        parts.push(fmt(_('%(from)s–%(to)s years'), { from: groups[0].split('-')[0], to: groups[groups.length - 1].split('-')[1] }));
      } else if (groups.length) parts.push(groups.map((g) => AGE_SHORT[g] || g).join(LIST_SEP));
      return parts.join(' · ');
    }
    function renderRules() {
      ruleList.removeAttribute('aria-busy');
      if (!rulePack.rules.length) {
        fill(ruleList, el('li', { class: 'hint' }, _('No rules are configured.')));
        return;
      }
      fill(ruleList, rulePack.rules.map((r) => el('li', { class: 'rule-option' },
        el('label', null,
          el('input', { type: 'checkbox', name: 'rules', value: r.id, checked: true }),
          el('span', { class: 'rule-text' },
            el('span', { class: 'rule-name', text: ruleText(r) }),
            el('span', { class: 'rule-meta', text: ruleMeta(r) }),
            r.source ? el('span', { class: 'rule-source', title: String(r.source) },
              el('span', { class: `badge ${r.verified ? 'verified' : 'unverified'}`, text: r.verified ? _('Verified') : _('Not verified') }),
              ' ', String(r.source)) : null)))));
    }
    async function loadDemandSets() {
      let sets = [];
      try {
        const data = await api('/access/demand');
        sets = Array.isArray(data) ? data : (data && data.results) || [];
      } catch (e) { sets = []; }
      const keep = demandSel.value;
      fill(demandSel,
        el('option', { value: 'buildings' }, _('Residential buildings, with the child totals below')),
        sets.map((d) => el('option', { value: d.id }, demandLabel(d))));
      if ($$('option', demandSel).some((o) => o.value === keep)) demandSel.value = keep;
      return sets;
    }
    function demandLabel(d) {
      const base = fmt(_('%(name)s: %(children)s children in %(rows)s rows'), {
        name: d.name || fmt(_('Upload #%(id)s'), { id: d.id }), children: fmtInt(d.children), rows: fmtInt(d.rows),
      });
      return d.generated ? `${base} · ${_('Generated data')}` : base;
    }
    $('#demand-generate').addEventListener('click', async () => {
      const status = $('#demand-status');
      const n = Math.round(Number($('#demand-n').value));
      if (!(n >= 1 && n <= 1000000)) { status.textContent = _('Choose between 1 and 1,000,000 homes.'); return; }
      const btn = $('#demand-generate');
      btn.disabled = true;
      status.textContent = _('Generating…');
      try {
        const d = await api('/access/demand/generate', { method: 'POST', body: { n_points: n, seed: 0, name: '' } });
        await loadDemandSets();
        if (d && d.id != null) demandSel.value = String(d.id);
        status.textContent = fmt(_('Generated: %(children)s children in %(rows)s rows. They are labelled as generated data.'), {
          children: fmtInt(d.children), rows: fmtInt(d.rows),
        });
      } catch (e) {
        status.textContent = e.message;
      } finally {
        btn.disabled = false;
      }
    });
    $('#rules-all').addEventListener('click', () => { for (const c of $$('input[name=rules]', ruleList)) c.checked = true; });
    $('#rules-none').addEventListener('click', () => { for (const c of $$('input[name=rules]', ruleList)) c.checked = false; });

    $('#demand-upload-button').addEventListener('click', async () => {
      const file = $('#demand-file').files[0];
      const status = $('#demand-status');
      if (!file) { status.textContent = _('Choose a file first.'); return; }
      const fd = new FormData();
      fd.append('file', file);
      fd.append('kind', $('#demand-kind').value);
      const btn = $('#demand-upload-button');
      btn.disabled = true;
      status.textContent = _('Uploading…');
      try {
        const d = await api('/access/demand', { method: 'POST', body: fd });
        await loadDemandSets();
        if (d && d.id != null) demandSel.value = String(d.id);
        status.textContent = fmt(_('Uploaded: %(children)s children in %(rows)s rows.'), { children: fmtInt(d.children), rows: fmtInt(d.rows) });
        $('#demand-file').value = '';
      } catch (e) {
        status.textContent = e.message;
      } finally {
        btn.disabled = false;
      }
    });

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      showError(formError, '');
      const chosen = $$('input[name=rules]:checked', ruleList).map((c) => c.value);
      if (rulePack.rules.length && !chosen.length) {
        showError(formError, _('Choose at least one kind of facility.'));
        return;
      }
      const demand = demandSel.value === 'buildings' ? 'buildings' : Number(demandSel.value);
      const body = {
        area: areaSel.value || null,
        rules: chosen.length ? chosen : null,
        h3_resolution: Number($('#run-h3').value) || 9,
        decay: (form.querySelector('input[name=decay]:checked') || {}).value || 'flat',
        demand,
        include_planned: $('#run-planned').checked,
      };
      startBtn.disabled = true;
      const label = startBtn.textContent;
      startBtn.textContent = _('Starting…');
      try {
        const run = await api('/access/runs', { method: 'POST', body });
        window.location.assign(runUrl(run.id));
      } catch (err) {
        showError(formError, err.message);
        startBtn.disabled = false;
        startBtn.textContent = label;
      }
    });

    // Child totals per area and age group. ---------------------------------------------------
    const popHead = $('#population-head');
    const popBody = $('#population-body');
    const popStatus = $('#population-status');
    const yearIn = $('#population-year');
    const sourceIn = $('#population-source');
    let popRows = [];
    const canEditPopulation = () => ('canEditPopulation' in config ? !!config.canEditPopulation
      : !!(me && (me.role === 'wcco' || me.role === 'admin')));
    function popAreas() {
      // Totals are entered per 街道 or 社区.
      const list = myAreas().filter((a) => a.level >= 3 && a.level <= 4);
      // Areas that already have totals are listed even at other levels.
      const codes = new Set(list.map((a) => a.code));
      for (const r of popRows) {
        if (!codes.has(r.area)) {
          codes.add(r.area);
          list.push(areaByCode.get(r.area) || { code: r.area, name: r.area_name || r.area, level: r.level || 4 });
          list.sort((a, b) => String(a.code).localeCompare(String(b.code)));
        }
      }
      return list;
    }
    function renderPopulation() {
      const editable = canEditPopulation();
      $('#population-readonly').hidden = editable;
      $('#population-save-row').hidden = !editable;
      $('#population-table').removeAttribute('aria-busy');
      fill(popHead,
        el('th', { scope: 'col' }, _('Administrative area')),
        AGE_GROUPS.map((g) => el('th', { scope: 'col', class: 'num' }, AGE_LABELS[g])),
        el('th', { scope: 'col', class: 'num' }, _('Total')),
        el('th', { scope: 'col' }, _('Source')));
      // The newest year of each area and age group (the API lists the newest first).
      const byKey = new Map();
      for (const r of popRows) {
        const k = `${r.area}|${r.age_group}`;
        const prev = byKey.get(k);
        if (!prev || Number(r.year) > Number(prev.year)) byKey.set(k, r);
      }
      const list = popAreas();
      if (!list.length) {
        fill(popBody, el('tr', null, el('td', { colspan: AGE_GROUPS.length + 3 }, _('No areas yet. Run “yimi demo” or add areas first.'))));
        return;
      }
      fill(popBody, list.map((a) => {
        let total = 0;
        let any = false;
        const sources = new Set();
        const cells = AGE_GROUPS.map((g) => {
          const r = byKey.get(`${a.code}|${g}`);
          if (r) {
            total += Number(r.count) || 0;
            any = true;
            if (r.source || r.year) sources.add([r.source, r.year].filter(Boolean).join(' · '));
          }
          if (!editable) return el('td', { class: 'num', text: r ? fmtInt(r.count) : '–' });
          return el('td', { class: 'num' }, el('input', {
            type: 'number', min: 0, step: 1, inputmode: 'numeric', class: 'pop-input',
            value: r ? Math.round(Number(r.count) || 0) : '',
            'data-area': a.code, 'data-age': g, 'data-orig': r ? Math.round(Number(r.count) || 0) : '',
            'aria-label': fmt(_('%(age)s in %(area)s'), { age: AGE_LABELS[g], area: a.name }),
          }));
        });
        return el('tr', { 'data-area': a.code, class: `level-${a.level}` },
          el('th', { scope: 'row', class: 'area-cell' },
            el('span', { class: 'area-name', style: `padding-left:${Math.max(0, (a.level || 3) - 3) * 1.1}em`, text: a.name }),
            el('span', { class: 'sub', text: LEVEL_NAMES[a.level] || '' })),
          cells,
          el('td', { class: 'num total', text: any ? fmtInt(total) : '–' }),
          el('td', { class: 'pop-source', text: [...sources].join(LIST_SEP) || '–' }));
      }));
      if (!yearIn.value) {
        const years = popRows.map((r) => Number(r.year)).filter(Number.isFinite);
        yearIn.value = years.length ? Math.max(...years) : new Date().getFullYear() - 1;
      }
      if (!sourceIn.value) {
        const s = popRows.find((r) => r.source);
        if (s) sourceIn.value = s.source;
      }
    }
    async function loadPopulation() {
      try {
        const data = await api('/access/population');
        popRows = Array.isArray(data) ? data : (data && data.results) || [];
      } catch (e) {
        popRows = [];
        popStatus.textContent = e.message;
      }
      renderPopulation();
    }
    popBody.addEventListener('input', (e) => {
      const inp = e.target.closest('.pop-input');
      if (!inp) return;
      inp.classList.toggle('changed', inp.value !== String(inp.dataset.orig));
      const tr = inp.closest('tr');
      const vals = $$('.pop-input', tr).map((i) => Number(i.value)).filter((v) => Number.isFinite(v) && v >= 0);
      $('.total', tr).textContent = vals.length ? fmtInt(vals.reduce((s, v) => s + v, 0)) : '–';
    });
    $('#population-save').addEventListener('click', async () => {
      const changed = $$('.pop-input', popBody).filter((i) => i.value !== String(i.dataset.orig) && i.value !== '');
      const bad = changed.filter((i) => !(Number(i.value) >= 0) || !Number.isInteger(Number(i.value)));
      if (bad.length) {
        popStatus.textContent = _('Enter whole numbers of children, 0 or more.');
        bad[0].focus();
        return;
      }
      if (!changed.length) {
        popStatus.textContent = _('Nothing has changed.');
        return;
      }
      const year = Number(yearIn.value) || new Date().getFullYear();
      const source = sourceIn.value.trim();
      const body = changed.map((i) => ({
        area: i.dataset.area, age_group: i.dataset.age, count: Number(i.value), year, source,
      }));
      const btn = $('#population-save');
      btn.disabled = true;
      popStatus.textContent = _('Saving…');
      try {
        await api('/access/population', { method: 'PUT', body });
        await loadPopulation();
        popStatus.textContent = fmt(ngettext('Saved %(n)s total.', 'Saved %(n)s totals.', body.length), { n: body.length });
      } catch (err) {
        popStatus.textContent = err.message;
      } finally {
        btn.disabled = false;
      }
    });

    // Planned facilities. ------------------------------------------------------------------------
    const plannedList = $('#planned-list');
    const plannedForm = $('#planned-form');
    const lonIn = $('#planned-lon');
    const latIn = $('#planned-lat');
    const catSel = $('#planned-category');
    const plannedError = $('#planned-error');
    let plannedMap = null;
    let plannedLayer = null;
    let draft = null;
    let planned = [];
    function renderCategories() {
      const used = new Set(rulePack.rules.flatMap((r) => r.categories || []));
      const list = categories.length ? categories : [...used].map((c) => ({ code: c, label: c }));
      const first = list.filter((c) => used.has(c.code));
      const rest = list.filter((c) => !used.has(c.code));
      const keep = catSel.value;
      fill(catSel, first.map((c) => el('option', { value: c.code }, c.label)),
        rest.length && first.length ? el('option', { disabled: true }, '──────') : null,
        rest.map((c) => el('option', { value: c.code }, c.label)));
      if (keep) catSel.value = keep;
      else if ($$('option', catSel).some((o) => o.value === 'kindergarten')) catSel.value = 'kindergarten';
    }
    const draftIcon = () => L.divIcon({
      className: 'draft-pin',
      html: '<svg viewBox="0 0 24 24" width="34" height="34" aria-hidden="true"><path d="M12 22s-7-6.6-7-12a7 7 0 0 1 14 0c0 5.4-7 12-7 12z" fill="#e4572e" stroke="#fff" stroke-width="1.6"/><circle cx="12" cy="10" r="2.6" fill="#fff"/></svg>',
      iconSize: [34, 34], iconAnchor: [17, 32],
    });
    function readLonLat() {
      const lon = parseFloat(String(lonIn.value).replace(',', '.'));
      const lat = parseFloat(String(latIn.value).replace(',', '.'));
      return latlngOK(lat, lon) ? { lon, lat } : null;
    }
    function placeDraft(ll, pan) {
      if (!plannedMap) return;
      if (!draft) draft = L.marker(ll, { icon: draftIcon(), keyboard: false, interactive: false }).addTo(plannedMap);
      else draft.setLatLng(ll);
      if (pan && !plannedMap.getBounds().pad(-0.1).contains(ll)) plannedMap.panTo(ll);
    }
    function initPlannedMap() {
      if (!L || plannedMap) return;
      plannedMap = makeMap($('#planned-map'));
      const ext = config.extent;
      if (Array.isArray(ext) && ext.length === 4) plannedMap.fitBounds([[ext[1], ext[0]], [ext[3], ext[2]]]);
      else if (Array.isArray(config.center) && config.center.length === 2) plannedMap.setView([config.center[1], config.center[0]], 14);
      else plannedMap.setView([39.9042, 116.4074], 11);
      existingLayer = L.featureGroup().addTo(plannedMap);
      plannedLayer = L.layerGroup().addTo(plannedMap);
      plannedMap.on('click', (e) => {
        lonIn.value = e.latlng.lng.toFixed(6);
        latIn.value = e.latlng.lat.toFixed(6);
        placeDraft(e.latlng, false);
        showError(plannedError, '');
      });
      const follow = () => {
        const p = readLonLat();
        if (p) placeDraft([p.lat, p.lon], true);
      };
      lonIn.addEventListener('input', follow);
      latIn.addEventListener('input', follow);
      addBasemap(plannedMap, extentBbox()).then((b) => {
        basemapBounds = b && b.isValid() ? b : null;
        if (!(Array.isArray(ext) && ext.length === 4)) fitPlanned();
      });
    }
    let basemapBounds = null;
    let existingLayer = null;
    let existingCount = 0;
    function fitPlanned() {
      if (!plannedMap) return;
      const pts = planned.filter((p) => latlngOK(p.lat, p.lon)).map((p) => [p.lat, p.lon]);
      existingLayer.eachLayer((m) => { if (m.getLatLng) pts.push(m.getLatLng()); });
      if (pts.length) plannedMap.fitBounds(L.latLngBounds(pts).pad(pts.length > 1 ? 0.25 : 0), { maxZoom: 16 });
      else if (basemapBounds) plannedMap.fitBounds(basemapBounds);
    }
    /** The existing facilities of the chosen category, so that a planned one is put where none is. */
    async function loadExisting() {
      if (!plannedMap) return;
      const cat = catSel.value;
      existingLayer.clearLayers();
      existingCount = 0;
      if (cat) {
        try {
          const data = await api(`/places?${qs({ category: cat, page_size: 500 })}`);
          if (catSel.value !== cat) return;
          for (const p of (data && data.results) || []) {
            if (!latlngOK(p.lat, p.lon)) continue;
            facilityMarker(p).addTo(existingLayer);
            existingCount += 1;
          }
        } catch (e) { /* the map works without them */ }
      }
      renderPlannedKey();
    }
    function renderPlannedKey() {
      const cat = catSel.value;
      fill($('#planned-key'),
        el('span', { class: 'key' }, el('i', { class: 'dot', style: `background:${catColor(cat)}` }),
          fmt(_('existing: %(category)s (%(n)s)'), { category: catLabels.get(cat) || cat, n: existingCount })),
        el('span', { class: 'key' }, el('i', { class: 'dot planned' }), _('planned')));
    }
    catSel.addEventListener('change', loadExisting);
    function renderPlanned() {
      if (plannedLayer) {
        plannedLayer.clearLayers();
        for (const p of planned) {
          if (!latlngOK(p.lat, p.lon)) continue;
          L.circleMarker([p.lat, p.lon], {
            radius: 8, color: catColor(p.category), weight: 3, dashArray: '3 3', fillColor: '#fff', fillOpacity: 0.9,
          }).bindTooltip(p.name || '', { direction: 'top' }).addTo(plannedLayer);
        }
      }
      if (!planned.length) {
        fill(plannedList, el('li', { class: 'empty hint' }, _('No planned facilities yet.')));
        return;
      }
      fill(plannedList, planned.map((p) => el('li', { class: 'planned-item', 'data-id': p.id },
        el('span', { class: 'swatch', style: `background:${catColor(p.category)}` }),
        el('span', { class: 'planned-text' },
          el('strong', { text: p.name || fmt(_('Planned #%(id)s'), { id: p.id }) }),
          el('span', {
            class: 'sub',
            text: [catLabels.get(p.category) || p.category,
              p.capacity != null && p.capacity !== '' ? fmt(_('%(n)s seats'), { n: fmtInt(p.capacity) }) : null,
              `${Number(p.lon).toFixed(5)}, ${Number(p.lat).toFixed(5)}`].filter(Boolean).join(' · '),
          })),
        el('button', {
          type: 'button', class: 'small danger', 'data-delete': p.id,
          'aria-label': fmt(_('Delete %(name)s'), { name: p.name || p.id }),
        }, _('Delete')))));
    }
    async function loadPlanned() {
      try {
        const data = await api('/access/planned');
        planned = Array.isArray(data) ? data : (data && data.results) || [];
      } catch (e) {
        planned = [];
        showError(plannedError, e.message);
      }
      renderPlanned();
      const hint = $('#run-planned-hint');
      if (hint) {
        hint.textContent = sentences(
          _('Counts the planned facilities below as if they were built, to see what they would change.'),
          planned.length ? fmt(ngettext('%(n)s planned facility.', '%(n)s planned facilities.', planned.length), { n: planned.length }) : '');
      }
    }
    plannedList.addEventListener('click', async (e) => {
      const btn = e.target.closest('[data-delete]');
      if (!btn) return;
      const p = planned.find((x) => String(x.id) === btn.dataset.delete);
      if (!window.confirm(fmt(_('Delete the planned facility “%(name)s”?'), { name: (p && p.name) || btn.dataset.delete }))) return;
      btn.disabled = true;
      try {
        await api(`/access/planned/${encodeURIComponent(btn.dataset.delete)}`, { method: 'DELETE' });
        await loadPlanned();
        toast(_('Deleted.'));
      } catch (err) {
        btn.disabled = false;
        toast(err.message, 'error');
      }
    });
    plannedForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      showError(plannedError, '');
      const name = $('#planned-name').value.trim();
      const ll = readLonLat();
      if (!name) { showError(plannedError, _('Give the facility a name.')); $('#planned-name').focus(); return; }
      if (!ll) { showError(plannedError, _('Click the map or enter a longitude and a latitude.')); lonIn.focus(); return; }
      const capRaw = $('#planned-capacity').value.trim();
      const body = {
        name, category: catSel.value, lon: ll.lon, lat: ll.lat,
        capacity: capRaw === '' ? null : Math.round(Number(capRaw)),
      };
      const btn = $('#planned-add');
      btn.disabled = true;
      try {
        await api('/access/planned', { method: 'POST', body });
        $('#planned-name').value = '';
        $('#planned-capacity').value = '';
        lonIn.value = '';
        latIn.value = '';
        if (draft) { draft.remove(); draft = null; }
        await loadPlanned();
        toast(fmt(_('Added “%(name)s”.'), { name }));
      } catch (err) {
        showError(plannedError, err.message);
      } finally {
        btn.disabled = false;
      }
    });

    // Start. -----------------------------------------------------------------------------------
    renderRules();
    renderCategories();
    refreshRuns();
    initPlannedMap();
    const needMe = !('canEditPopulation' in config) || config.userArea === undefined;
    const [, , meData] = await Promise.all([
      loadAreas(), loadRules(), needMe ? api('/me').catch(() => null) : null, loadDemandSets(),
    ]);
    me = meData;
    renderAreas();
    renderRules();
    renderCategories();
    renderRuns();
    await Promise.all([loadPopulation(), loadPlanned(), loadExisting()]);
    fitPlanned();
  }

  // =========================================================================================
  // One analysis (/access/runs/<id>/)
  // =========================================================================================
  async function initRun() {
    const m = window.location.pathname.match(/runs\/(\d+)/);
    const runId = config.runId ?? config.run ?? (m ? Number(m[1]) : null);
    const statusEl = $('#run-status');
    const statusBadgeEl = $('#run-status-badge');
    const statusText = $('#run-status-text');
    const elapsedEl = $('#run-elapsed');
    const progressEl = $('#run-progress');
    const stageEl = $('#run-stage');
    const errorEl = $('#run-error');
    const resultsEl = $('#results');
    let run = null;
    let pollTimer = 0;
    let resultsLoaded = false;
    let failures = 0;
    if (runId == null) {
      showError(errorEl, _('This analysis does not exist.'));
      return;
    }

    // Progress. ----------------------------------------------------------------------------------
    function renderHead() {
      const title = fmt(_('Analysis #%(id)s'), { id: run.id });
      $('#run-title').textContent = `${title} · ${areaText(run.area, run.area_name)}`;
      document.title = `${title} · ${document.title.split(' · ').slice(-1)[0]}`;
      const p = run.params || {};
      const chips = [];
      const ruleIds = Array.isArray(p.rules) ? p.rules : null;
      $('#run-rules').textContent = ruleIds ? ruleIds.map((r) => ruleName(r)).join(LIST_SEP) : _('All facilities');
      if (p.h3_resolution) chips.push(fmt(_('H3 level %(n)s'), { n: p.h3_resolution }));
      if (p.decay) chips.push(p.decay === 'gaussian' ? _('Gaussian decay') : _('Flat decay'));
      if (p.demand != null) {
        if (p.demand === 'buildings') chips.push(_('Children from residential buildings'));
        else if (run.generated_demand) chips.push(fmt(_('Children from generated set #%(id)s'), { id: p.demand }));
        else chips.push(fmt(_('Children from upload #%(id)s'), { id: p.demand }));
      }
      chips.push(p.include_planned ? _('Planned facilities included') : _('Existing facilities only'));
      if (run.created_at) chips.push(fmt(_('Started %(when)s'), { when: fmtWhen(run.created_at) }));
      fill($('#run-params'), chips.map((c) => el('span', { class: 'param' }, c)));
      $('#generated-badge').hidden = !run.generated_demand;
      $('#generated-note').hidden = !run.generated_demand;
    }
    function renderStatus() {
      const st = run.status;
      statusEl.dataset.status = st;
      statusEl.classList.toggle('is-done', st === 'done');
      fill(statusBadgeEl, STATUS_LABELS[st] || st);
      statusBadgeEl.className = `badge status status-${st}`;
      setProgress(progressEl, st, run.progress);
      progressEl.hidden = st === 'failed' || st === 'done';
      if (st === 'queued') {
        statusText.textContent = _('Waiting to start…');
        elapsedEl.textContent = fmt(_('queued for %(t)s'), { t: fmtSeconds(secondsBetween(run.created_at)) });
      } else if (st === 'running') {
        statusText.textContent = fmt(_('%(p)s done'), { p: fmtPct((Number(run.progress) || 0) / 100) });
        const t = secondsBetween(run.started_at || run.created_at);
        elapsedEl.textContent = Number.isFinite(t) ? fmt(_('for %(t)s'), { t: fmtSeconds(t) }) : '';
      } else if (st === 'done') {
        const t = secondsBetween(run.started_at || run.created_at, run.finished_at);
        statusText.textContent = Number.isFinite(t) && run.finished_at
          ? fmt(_('Finished in %(t)s.'), { t: fmtSeconds(t) }) : _('Finished.');
        elapsedEl.textContent = run.finished_at ? fmtWhen(run.finished_at) : '';
      } else if (st === 'failed') {
        statusText.textContent = _('The analysis failed.');
        elapsedEl.textContent = run.finished_at ? fmtWhen(run.finished_at) : '';
      }
      stageEl.textContent = st === 'done' ? '' : stageText(run);
      stageEl.hidden = !stageEl.textContent;
      $('#run-leave').hidden = st === 'done' || st === 'failed';
      showError(errorEl, st === 'failed' ? (run.error || _('No reason was given.')) : '');
    }
    async function poll() {
      clearTimeout(pollTimer);
      try {
        run = await api(`/access/runs/${runId}`);
        failures = 0;
      } catch (e) {
        if (e.status === 404 || e.status === 403) {
          statusEl.dataset.status = 'error';
          statusText.textContent = e.message;
          progressEl.hidden = true;
          return;
        }
        failures += 1;
        stageEl.hidden = false;
        stageEl.textContent = sentences(e.message, _('Trying again…'));
        pollTimer = setTimeout(poll, Math.min(10000, POLL_MS * (1 + failures)));
        return;
      }
      renderHead();
      renderStatus();
      if (run.status === 'done') {
        if (!resultsLoaded) {
          resultsLoaded = true;
          showResults();
        }
      } else if (run.status !== 'failed') {
        pollTimer = setTimeout(poll, document.hidden ? 5000 : POLL_MS);
      }
    }

    // Results. -----------------------------------------------------------------------------------
    let summaryRules = [];
    let gapRule = null;
    let gapField = 'share_covered';
    let gapMap = null;
    let hexLayer = null;
    let facilityLayer = null;
    let plannedLayer = null;
    let siteLayer = null;
    let pickLayer = null;
    let highlight = null;
    let gapData = null;
    let basemapBbox = null;
    let basemapPromise = null;
    let firstFit = true;
    let picking = false;
    const pickedSites = [];
    const hexByCell = new Map();

    const summaryFor = (id) => summaryRules.find((r) => String(r.rule) === String(id));
    const thresholdOf = (id) => {
      const s = summaryFor(id);
      const r = ruleById.get(String(id));
      return num((s && s.threshold_m) ?? (r && r.threshold_m));
    };

    function renderSummary() {
      const s = run.summary || {};
      summaryRules = Array.isArray(s.rules) ? s.rules : [];
      const parts = [];
      if (s.children != null) {
        parts.push(fmt(_('%(children)s children in %(points)s homes.'), {
          children: fmtInt(s.children), points: fmtInt(s.demand_points),
        }));
      }
      if (num(s.unsnapped) > 0) {
        parts.push(fmt(ngettext(
          '%(n)s home is too far from any street to be placed on the walking network and is left out.',
          '%(n)s homes are too far from any street to be placed on the walking network and are left out.',
          Math.round(num(s.unsnapped))), { n: fmtInt(s.unsnapped) }));
      }
      $('#summary-totals').textContent = sentences(...parts);
      if (!summaryRules.length) {
        fill($('#summary'), el('p', { class: 'hint' }, _('This analysis has no results.')));
        return;
      }
      fill($('#summary'), summaryRules.map((r) => {
        const rule = ruleById.get(String(r.rule));
        const share = num(r.share);
        const notCovered = Math.max(0, num(r.children) - num(r.covered));
        const meta = [fmt(_('within %(d)s'), { d: fmtDist(r.threshold_m) })];
        if (rule && rule.life_circle) meta.push(circleText(rule.life_circle));
        const details = [
          fmt(ngettext('%(n)s facility', '%(n)s facilities', Math.round(num(r.facilities)) || 0), { n: fmtInt(r.facilities) }),
        ];
        if (Number.isFinite(num(r.mean_m))) details.push(fmt(_('mean walk %(d)s'), { d: fmtDist(r.mean_m) }));
        if (num(r.unreachable) > 0) details.push(fmt(_('%(n)s cannot reach any'), { n: fmtInt(r.unreachable) }));
        return el('article', {
          class: `rule-card share-${shareClass(share)}`, 'data-rule': r.rule, tabindex: 0, role: 'button',
          'aria-label': fmt(_('%(rule)s: %(share)s covered. Show it on the gap map.'), { rule: ruleName(r.rule, r.label), share: fmtPct(share) }),
        },
        el('h3', { class: 'rule-title' }, el('span', { text: ruleName(r.rule, r.label) }),
          el('span', { class: 'rule-sub', text: meta.join(' · ') })),
        el('p', { class: 'share-line' }, el('strong', { class: 'share', text: fmtPct(share) }),
          el('span', { text: _('covered') })),
        el('span', { class: 'meter', 'aria-hidden': 'true' }, el('span', { style: `width:${Number.isFinite(share) ? Math.round(share * 100) : 0}%` })),
        el('p', { class: 'not-covered' },
          el('strong', { text: fmtInt(notCovered) }), isZh ? '' : ' ',
          fmt(_('of %(n)s children not covered'), { n: fmtInt(r.children) })),
        el('p', { class: 'rule-details hint', text: details.join(' · ') }));
      }));
    }
    $('#summary').addEventListener('click', (e) => {
      const card = e.target.closest('.rule-card');
      if (card) chooseGapRule(card.dataset.rule, true);
    });
    $('#summary').addEventListener('keydown', (e) => {
      const card = e.target.closest('.rule-card');
      if (card && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); chooseGapRule(card.dataset.rule, true); }
    });

    // The chart: one bar per rule, covered / beyond the distance / no facility reachable.
    function renderChart() {
      const host = $('#chart');
      const rows = summaryRules;
      if (!rows.length) { fill(host); return; }
      const W = Math.max(280, Math.round(host.clientWidth || 600));
      const narrow = W < 460;
      const labelW = narrow ? 0 : Math.min(190, Math.round(W * 0.32));
      const valueW = 52;
      const barX = labelW + (narrow ? 2 : 10);
      const barW = Math.max(60, W - barX - valueW);
      const rowH = narrow ? 50 : 36;
      const barH = 18;
      const top = 22;
      const H = top + rows.length * rowH + 6;
      const s = svg('svg', {
        width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'bar-chart', role: 'presentation', 'font-size': 12,
      });
      for (const t of [0, 0.25, 0.5, 0.75, 1]) {
        const x = barX + t * barW;
        s.append(svg('line', { x1: x, x2: x, y1: top - 4, y2: H - 4, class: t === 0 || t === 1 ? 'axis' : 'grid' }));
        s.append(svg('text', {
          x: t === 0 ? x + 1 : x, y: 12, 'text-anchor': t === 0 ? 'start' : t === 1 ? 'end' : 'middle', class: 'tick', text: fmtPct(t),
        }));
      }
      rows.forEach((r, i) => {
        const y0 = top + i * rowH;
        const by = narrow ? y0 + 22 : y0 + (rowH - barH) / 2;
        const children = num(r.children);
        const cov = children > 0 ? num(r.covered) / children : 0;
        const unr = children > 0 ? Math.min(1 - cov, Math.max(0, num(r.unreachable) / children)) : 0;
        const far = Math.max(0, 1 - cov - unr);
        const g = svg('g', { class: 'row', 'data-rule': r.rule });
        const name = ruleName(r.rule, r.label);
        const lbl = svg('text', {
          x: narrow ? barX + 1 : labelW, y: narrow ? y0 + 14 : by + barH / 2 + 4, 'text-anchor': narrow ? 'start' : 'end',
          class: 'label', text: name,
        });
        g.append(lbl);
        g.append(svg('title', { text: fmt(_('%(rule)s: %(covered)s of %(children)s children within %(d)s (%(share)s)'), {
          rule: name, covered: fmtInt(r.covered), children: fmtInt(r.children), d: fmtDist(r.threshold_m), share: fmtPct(r.share),
        }) }));
        g.append(svg('rect', { x: barX, y: by, width: barW, height: barH, rx: 3, class: 'track' }));
        let x = barX;
        for (const [part, cls] of [[cov, 'covered'], [far, 'far'], [unr, 'unreachable']]) {
          if (!(part > 0)) continue;
          g.append(svg('rect', { x, y: by, width: Math.max(1, part * barW), height: barH, class: `seg ${cls}` }));
          x += part * barW;
        }
        g.append(svg('text', { x: W - 2, y: by + barH / 2 + 4, 'text-anchor': 'end', class: 'value', text: fmtPct(r.share) }));
        s.append(g);
      });
      fill(host, s);
      const key = (cls, text) => el('span', { class: 'key' }, el('i', { class: `sw ${cls}` }), text);
      fill($('#chart-desc'),
        run.generated_demand ? generatedBadge() : null,
        key('covered', _('within the walking distance')), ' ',
        key('far', _('farther')), ' ',
        key('unreachable', _('no facility reachable')));
    }
    let chartTimer = 0;
    window.addEventListener('resize', () => {
      clearTimeout(chartTimer);
      chartTimer = setTimeout(() => { if (resultsLoaded && summaryRules.length) renderChart(); }, 150);
    });

    // Coverage per area. -------------------------------------------------------------------------
    let coverageRows = [];
    let coverageLevel = null;
    async function loadCoverage() {
      const table = $('#coverage-table');
      try {
        const data = await api(`/access/runs/${runId}/coverage`);
        coverageRows = Array.isArray(data) ? data : (data && data.results) || [];
      } catch (e) {
        table.removeAttribute('aria-busy');
        fill(table, el('tbody', null, el('tr', null, el('td', { text: e.message }))));
        return;
      }
      const levels = [...new Set(coverageRows.map((r) => Number(r.level)).filter((l) => l > 0))].sort();
      coverageLevel = levels.includes(4) ? 4 : levels[levels.length - 1] || null;
      const seg = $('#coverage-levels');
      fill(seg, levels.map((l) => el('label', null,
        el('input', { type: 'radio', name: 'coverage-level', value: l, checked: l === coverageLevel }),
        el('span', { text: LEVEL_PLURAL[l] || LEVEL_NAMES[l] || String(l) }))));
      seg.hidden = levels.length < 2;
      renderCoverage();
    }
    $('#coverage-levels').addEventListener('change', (e) => {
      if (e.target.name !== 'coverage-level') return;
      coverageLevel = Number(e.target.value);
      renderCoverage();
    });
    function renderCoverage() {
      const table = $('#coverage-table');
      table.removeAttribute('aria-busy');
      const ruleIds = summaryRules.length ? summaryRules.map((r) => String(r.rule))
        : [...new Set(coverageRows.map((r) => String(r.rule)))];
      // One row per (area, rule): the rule's own distance when several are given.
      const cell = new Map();
      for (const r of coverageRows) {
        const key = `${r.area == null ? '' : r.area}|${r.rule}`;
        const want = thresholdOf(r.rule);
        const prev = cell.get(key);
        const better = () => {
          if (r.is_threshold !== undefined || prev.is_threshold !== undefined) return !!r.is_threshold && !prev.is_threshold;
          return Number.isFinite(want) && Math.abs(num(r.distance_m) - want) < Math.abs(num(prev.distance_m) - want);
        };
        if (!prev || better()) cell.set(key, r);
      }
      const areaRows = new Map();
      for (const r of coverageRows) {
        const lvl = Number(r.level);
        if (r.area == null || lvl === 0) areaRows.set('', { area: '', name: LEVEL_NAMES[0], level: 0 });
        else if (lvl === coverageLevel && !areaRows.has(r.area)) areaRows.set(String(r.area), { area: String(r.area), name: r.area_name || areaText(r.area), level: lvl });
      }
      const rowsOut = [...areaRows.values()].sort((a, b) => (a.level - b.level) || String(a.area).localeCompare(String(b.area)));
      const thead = el('thead', null, el('tr', null,
        el('th', { scope: 'col' }, _('Administrative area')),
        ruleIds.map((id) => el('th', { scope: 'col', class: 'num' }, ruleName(id),
          Number.isFinite(thresholdOf(id)) ? el('span', { class: 'sub', text: fmtDist(thresholdOf(id)) }) : null))));
      const tbody = el('tbody', null, rowsOut.map((a) => el('tr', { class: a.level === 0 ? 'total-row' : null, 'data-area': a.area },
        el('th', { scope: 'row' }, a.name, a.level ? el('span', { class: 'sub', text: LEVEL_NAMES[a.level] || '' }) : null),
        ruleIds.map((id) => {
          const r = cell.get(`${a.area}|${id}`);
          if (!r || !(num(r.children) > 0)) return el('td', { class: 'num muted', title: _('No children of these ages here') }, '–');
          const share = num(r.share);
          return el('td', { class: `num share-cell share-${shareClass(share)}` },
            el('span', { class: 'pct', text: fmtPct(share) }),
            el('span', { class: 'mini-bar', 'aria-hidden': 'true' }, el('i', { style: `width:${Math.round((share || 0) * 100)}%` })),
            el('span', { class: 'sub', text: `${fmtInt(r.covered)} / ${fmtInt(r.children)}` }));
        }))));
      fill(table, el('caption', { class: 'visually-hidden', text: _('Coverage by area') }), thead, tbody);
      if (!rowsOut.length) fill(tbody, el('tr', null, el('td', { colspan: ruleIds.length + 1 }, _('No coverage rows.'))));
    }

    // The gap map. -------------------------------------------------------------------------------
    const SHARE_COLORS = ['#d7191c', '#fdae61', '#ffffbf', '#abd9e9', '#2c7bb6'];
    const COUNT_COLORS = ['#fed976', '#fd8d3c', '#e31a1c', '#800026'];
    const ZERO_COLOR = '#e9f2ec';
    function niceRound(v) {
      if (!(v > 0)) return 0;
      const p = Math.pow(10, Math.floor(Math.log10(v)));
      const f = v / p;
      const n = f < 1.5 ? 1 : f < 2.5 ? 2 : f < 3.5 ? 3 : f < 7.5 ? 5 : 10;
      return Math.max(1, n * p);
    }
    /** Classes [{lo, hi, color}] (lo inclusive, hi exclusive; null = open). */
    function classesFor(field, features, legend) {
      const isShare = field === 'share_covered';
      if (legend && legend.field === field && Array.isArray(legend.breaks) && Array.isArray(legend.colors) && legend.colors.length) {
        const B = legend.breaks.map(Number);
        const C = legend.colors;
        const out = [];
        if (B.length === C.length + 1) C.forEach((c, i) => out.push({ lo: B[i], hi: i === C.length - 1 ? null : B[i + 1], color: c, top: B[i + 1] }));
        else if (B.length === C.length - 1) C.forEach((c, i) => out.push({ lo: i === 0 ? null : B[i - 1], hi: i < B.length ? B[i] : null, color: c }));
        else if (B.length === C.length) C.forEach((c, i) => out.push({ lo: B[i], hi: i < B.length - 1 ? B[i + 1] : null, color: c }));
        if (out.length) return out;
      }
      if (isShare) {
        const b = [0, 0.25, 0.5, 0.75, 0.9];
        return SHARE_COLORS.map((c, i) => ({ lo: b[i], hi: i < b.length - 1 ? b[i + 1] : null, color: c, top: i === b.length - 1 ? 1 : undefined }));
      }
      const vals = features.map((f) => num(f.properties[field])).filter((v) => v > 0).sort((a, b) => a - b);
      const out = [{ lo: 0, hi: 0, zero: true, color: ZERO_COLOR }];
      if (!vals.length) return out;
      const q = (p) => vals[Math.min(vals.length - 1, Math.floor(p * vals.length))];
      let cuts = [q(0.25), q(0.5), q(0.75)].map(niceRound);
      cuts = [...new Set(cuts)].filter((c) => c > 0 && c <= vals[vals.length - 1]);
      const edges = [0, ...cuts];
      edges.forEach((lo, i) => out.push({
        lo, hi: i < edges.length - 1 ? edges[i + 1] : null, color: COUNT_COLORS[Math.min(COUNT_COLORS.length - 1, i + (COUNT_COLORS.length - edges.length))],
      }));
      return out;
    }
    function colorFor(classes, v) {
      if (!Number.isFinite(v)) return null;
      for (const c of classes) {
        if (c.zero) { if (v === 0) return c.color; continue; }
        if ((c.lo == null || v >= c.lo || (c.lo === 0 && v > 0)) && (c.hi == null || v < c.hi)) return c.color;
      }
      // Past the last edge (e.g. a share of exactly 1): the last class.
      return classes[classes.length - 1].color;
    }
    function classLabel(c, isShare) {
      const f = isShare ? fmtPct : fmtInt;
      if (c.zero) return _('none');
      const hi = c.hi != null ? c.hi : c.top;
      if (c.lo == null || (!isShare && c.lo === 0 && hi != null)) return fmt(_('under %(v)s'), { v: f(hi) });
      if (hi == null) return fmt(_('%(v)s or more'), { v: f(c.lo) });
      return `${f(c.lo)}–${f(hi)}`;
    }
    let gapClasses = [];
    function renderLegend() {
      const isShare = gapField === 'share_covered';
      const rule = ruleById.get(String(gapRule));
      const cats = (rule && rule.categories) || [];
      const title = isShare
        ? fmt(_('Share of children within %(d)s'), { d: fmtDist(thresholdOf(gapRule)) })
        : fmt(_('Children beyond %(d)s'), { d: fmtDist(thresholdOf(gapRule)) });
      const items = gapClasses.map((c) => el('li', null, el('i', { class: 'sw', style: `background:${c.color}` }), classLabel(c, isShare)));
      fill($('#gap-legend'),
        el('p', { class: 'legend-title' }, title, run.generated_demand ? [' ', generatedBadge()] : null),
        el('ul', { class: isShare ? 'legend-scale' : 'legend-scale count' }, items),
        el('ul', { class: 'legend-keys' },
          el('li', null, el('i', { class: 'dot', style: `background:${catColor(cats[0])}` }),
            cats.map((c) => catLabels.get(c) || c).join(LIST_SEP) || ruleName(gapRule)),
          run.params && run.params.include_planned ? el('li', null, el('i', { class: 'dot planned' }), _('planned')) : null,
          siteLayer && siteLayer.getLayers().length ? el('li', null, el('i', { class: 'dot site' }), _('new site')) : null));
    }
    function hexStyle(f) {
      const v = num(f.properties[gapField]);
      const c = colorFor(gapClasses, v);
      return {
        pane: 'hex', color: '#ffffff', weight: 0.8, opacity: 0.9,
        fillColor: c || '#cccccc', fillOpacity: c ? 0.66 : 0.2,
      };
    }
    function hexPopup(p) {
      const rows = [
        [_('Children'), fmtInt(p.children)],
        [_('Not covered'), fmtInt(p.not_covered)],
        [_('Share covered'), fmtPct(p.share_covered)],
        [_('Mean walk to the nearest'), fmtDist(p.mean_m)],
        [_('Longest walk to the nearest'), fmtDist(p.max_m)],
      ];
      return `<div class="hex-popup"><p class="hex-title">${esc(ruleName(gapRule))}</p><dl>${
        rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></div>`;
    }
    function ensureGapMap() {
      if (gapMap) return;
      gapMap = makeMap($('#gap-map'));
      gapMap.setView([39.9042, 116.4074], 12);
      facilityLayer = L.layerGroup().addTo(gapMap);
      plannedLayer = L.layerGroup().addTo(gapMap);
      siteLayer = L.layerGroup().addTo(gapMap);
      pickLayer = L.layerGroup().addTo(gapMap);
      gapMap.on('click', (e) => {
        if (!picking) return;
        pickedSites.push({ lon: +e.latlng.lng.toFixed(6), lat: +e.latlng.lat.toFixed(6) });
        renderPicked();
      });
    }
    function renderPicked() {
      pickLayer.clearLayers();
      pickedSites.forEach((p, i) => {
        L.marker([p.lat, p.lon], { icon: numberIcon('+', 'candidate'), keyboard: false, title: fmt(_('Candidate %(n)s'), { n: i + 1 }) })
          .on('click', () => { pickedSites.splice(i, 1); renderPicked(); })
          .addTo(pickLayer);
      });
      $('#siting-picked').textContent = pickedSites.length
        ? fmt(ngettext('(%(n)s chosen)', '(%(n)s chosen)', pickedSites.length), { n: pickedSites.length }) : '';
      $('#siting-clear').hidden = !pickedSites.length;
    }
    async function loadGap() {
      const mapEl = $('#gap-map');
      mapEl.dataset.ready = '0';
      mapEl.setAttribute('aria-busy', 'true');
      const rule = gapRule;
      let data;
      try {
        data = await api(`/access/runs/${runId}/gaps?${qs({ rule })}`);
      } catch (e) {
        mapEl.removeAttribute('aria-busy');
        toast(e.message, 'error');
        return;
      }
      if (rule !== gapRule) return;
      gapData = data || { type: 'FeatureCollection', features: [] };
      const feats = (gapData.features || []).filter((f) => f && f.geometry);
      gapClasses = classesFor(gapField, feats, gapData.legend);
      if (hexLayer) hexLayer.remove();
      hexByCell.clear();
      hexLayer = L.geoJSON({ type: 'FeatureCollection', features: feats }, {
        pane: 'hex',
        style: hexStyle,
        onEachFeature: (f, layer) => {
          const cell = f.properties.cell || f.id;
          if (cell) hexByCell.set(String(cell), layer);
          layer.bindPopup(() => hexPopup(f.properties), { maxWidth: 260 });
          layer.on('mouseover', () => layer.setStyle({ weight: 2.2, color: '#1f2933' }));
          layer.on('mouseout', () => layer.setStyle({ weight: 0.8, color: '#ffffff' }));
        },
      }).addTo(gapMap);
      const b = hexLayer.getBounds();
      if (firstFit && b.isValid()) {
        gapMap.fitBounds(b, { padding: [16, 16] });
        firstFit = false;
      }
      if (!basemapPromise) {
        // The whole basemap when the page knows its extent (as the public map loads it), so that
        // zooming out never shows a blank edge; else generously around the hexagons.
        basemapBbox = extentBbox() || (b.isValid() ? boundsBbox(b.pad(1)) : '');
        basemapPromise = addBasemap(gapMap, basemapBbox);
      }
      renderLegend();
      const facilitiesDone = loadFacilities(rule, b);
      await Promise.all([basemapPromise, facilitiesDone]);
      if (rule !== gapRule) return;
      mapEl.removeAttribute('aria-busy');
      mapEl.dataset.ready = '1';
    }
    async function loadFacilities(rule, bounds) {
      facilityLayer.clearLayers();
      const r = ruleById.get(String(rule));
      const cats = (r && r.categories) || [];
      if (!cats.length) return;
      const bbox = bounds && bounds.isValid() ? boundsBbox(bounds.pad(0.5)) : '';
      let page = 1;
      let count = 0;
      try {
        for (; page <= 10; page += 1) {
          const data = await api(`/places?${qs({ category: cats.join(','), bbox, page, page_size: 500 })}`);
          if (rule !== gapRule) return;
          const rows = (data && data.results) || [];
          for (const p of rows) if (latlngOK(p.lat, p.lon)) facilityMarker(p, 'markerPane').addTo(facilityLayer);
          count += rows.length;
          if (!data || count >= data.count || !rows.length) break;
        }
      } catch (e) { /* the gap map still stands without its facilities */ }
    }
    async function loadPlannedOnMap() {
      if (!(run.params && run.params.include_planned)) return;
      try {
        const data = await api('/access/planned');
        const rows = Array.isArray(data) ? data : [];
        for (const p of rows) {
          if (!latlngOK(p.lat, p.lon)) continue;
          L.circleMarker([p.lat, p.lon], {
            radius: 8, color: catColor(p.category), weight: 3, dashArray: '3 3', fillColor: '#fff', fillOpacity: 0.9,
          }).bindTooltip(`${p.name || ''} · ${_('planned')}`, { direction: 'top' }).addTo(plannedLayer);
        }
        renderLegend();
      } catch (e) { /* optional layer */ }
    }
    async function loadWorst() {
      const list = $('#worst-list');
      list.setAttribute('aria-busy', 'true');
      const rule = gapRule;
      let rows = [];
      try {
        const data = await api(`/access/runs/${runId}/worst?${qs({ rule, n: 10 })}`);
        rows = Array.isArray(data) ? data : [];
      } catch (e) {
        list.removeAttribute('aria-busy');
        fill(list, el('li', { class: 'hint' }, e.message));
        return;
      }
      if (rule !== gapRule) return;
      list.removeAttribute('aria-busy');
      if (!rows.length) {
        fill(list, el('li', { class: 'empty hint' }, _('Every child is within the walking distance.')));
        return;
      }
      fill(list, rows.map((w, i) => el('li', { 'data-cell': w.cell },
        el('button', { type: 'button', class: 'worst-item', 'data-lon': w.lon, 'data-lat': w.lat, 'data-cell': w.cell },
          el('span', { class: 'rank', text: i + 1 }),
          el('span', { class: 'worst-text' },
            el('strong', { text: w.area_name || _('Unnamed area') }),
            el('span', { class: 'sub', text: sentences(
              fmt(_('%(n)s of %(all)s children not covered.'), { n: fmtInt(w.not_covered), all: fmtInt(w.children) }),
              Number.isFinite(num(w.nearest_m))
                ? fmt(_('Nearest: %(d)s.'), { d: fmtDist(w.nearest_m) })
                : _('No facility can be reached.')) }))))));
    }
    $('#worst-list').addEventListener('click', (e) => {
      const b = e.target.closest('.worst-item');
      if (!b) return;
      $$('.worst-item.is-active').forEach((x) => x.classList.remove('is-active'));
      b.classList.add('is-active');
      zoomTo(Number(b.dataset.lat), Number(b.dataset.lon), b.dataset.cell);
    });
    function zoomTo(lat, lon, cell) {
      if (!gapMap || !latlngOK(lat, lon)) return;
      if (highlight) highlight.remove();
      const layer = cell ? hexByCell.get(String(cell)) : null;
      if (layer) {
        highlight = L.geoJSON(layer.toGeoJSON(), {
          pane: 'markerPane', interactive: false, style: { color: '#1f2933', weight: 3, fill: false },
        }).addTo(gapMap);
      }
      // The hexagon with its neighbours around it, so that the place can be recognised.
      if (layer) gapMap.fitBounds(layer.getBounds().pad(1.6), { maxZoom: 17, animate: true });
      else gapMap.setView([lat, lon], Math.max(gapMap.getZoom(), 16), { animate: true });
      if (layer) setTimeout(() => layer.openPopup([lat, lon]), 350);
      if (isPhone()) scrollIntoViewIfNeeded($('#gap-map'));
    }
    function chooseGapRule(id, scroll) {
      const sel = $('#gap-rule');
      if (String(id) === String(gapRule)) {
        if (scroll) $('#gap-map').scrollIntoView({ behavior: 'smooth', block: 'center' });
        return;
      }
      sel.value = String(id);
      gapRule = String(id);
      $$('#summary .rule-card').forEach((c) => c.classList.toggle('is-active', c.dataset.rule === gapRule));
      if (highlight) { highlight.remove(); highlight = null; }
      updateExports();
      loadGap();
      loadWorst();
      if (scroll) $('#gap-map').scrollIntoView({ behavior: 'smooth', block: 'center' });
    }
    $('#gap-rule').addEventListener('change', (e) => chooseGapRule(e.target.value, false));
    for (const r of $$('input[name=gap-field]')) {
      r.addEventListener('change', () => {
        gapField = r.value;
        if (!hexLayer || !gapData) return;
        gapClasses = classesFor(gapField, gapData.features || [], gapData.legend);
        hexLayer.setStyle(hexStyle);
        renderLegend();
      });
    }

    // Downloads. -----------------------------------------------------------------------------------
    function updateExports() {
      for (const a of $$('#exports a[data-format]')) {
        const p = { format: a.dataset.format };
        if (a.dataset.rule) p.rule = gapRule;
        a.setAttribute('href', `${API}/access/runs/${runId}/export?${qs(p)}`);
      }
      for (const n of $$('#exports [data-rule-note]')) n.textContent = fmt(_('gap map of %(rule)s'), { rule: ruleName(gapRule) });
    }

    // Where to build next. -------------------------------------------------------------------------
    const sitingForm = $('#siting-form');
    const candidatesMode = () => (sitingForm.querySelector('input[name=siting-candidates]:checked') || {}).value || 'nodes';
    function setPicking(on) {
      picking = on;
      $('#pick-banner').hidden = !on;
      $('#gap-map').classList.toggle('picking', on);
      $('#siting-pick').setAttribute('aria-pressed', on ? 'true' : 'false');
      if (on && isPhone()) scrollIntoViewIfNeeded($('#gap-map'));
    }
    sitingForm.addEventListener('change', (e) => {
      if (e.target.name !== 'siting-candidates') return;
      const pts = candidatesMode() === 'points';
      $('#siting-pick').hidden = !pts;
      if (pts && !pickedSites.length) setPicking(true);
      if (!pts) setPicking(false);
    });
    $('#siting-pick').addEventListener('click', () => setPicking(!picking));
    $('#pick-done').addEventListener('click', () => setPicking(false));
    $('#siting-clear').addEventListener('click', () => { pickedSites.length = 0; renderPicked(); });
    $('#siting-every').addEventListener('focus', () => { sitingForm.querySelector('input[value=edges]').checked = true; });
    sitingForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const errEl = $('#siting-error');
      showError(errEl, '');
      const rule = $('#siting-rule').value;
      const k = Math.round(Number($('#siting-k').value));
      if (!(k >= 1 && k <= 50)) { showError(errEl, _('Choose between 1 and 50 sites.')); return; }
      const mode = candidatesMode();
      let candidates = mode;
      if (mode === 'points') {
        if (!pickedSites.length) { showError(errEl, _('Click the map to choose candidate sites first.')); setPicking(true); return; }
        candidates = pickedSites.slice();
      }
      const everyM = Math.max(10, Math.round(Number($('#siting-every').value) || 100));
      const btn = $('#siting-run');
      const label = btn.textContent;
      btn.disabled = true;
      btn.textContent = _('Calculating…');
      setPicking(false);
      try {
        const res = await api(`/access/runs/${runId}/siting`, { method: 'POST', body: { rule, k, candidates, every_m: everyM } });
        showSiting(res, rule);
      } catch (err) {
        showError(errEl, err.message);
      } finally {
        btn.disabled = false;
        btn.textContent = label;
      }
    });
    function showSiting(res, rule) {
      if (String(rule) !== String(gapRule)) chooseGapRule(rule, false);
      gapMap.closePopup();
      if (highlight) { highlight.remove(); highlight = null; }
      const total = num(res.total_children);
      const before = num(res.covered_before);
      const after = num(res.covered_after);
      const shareOf = (v) => (total > 0 ? v / total : NaN);
      const sites = Array.isArray(res.sites) ? res.sites.slice().sort((a, b) => a.rank - b.rank) : [];
      // "cumulative" is the children covered after this site: with those covered before (as the
      // backend gives it), or only the new ones; tell them apart by the last site.
      const lastCum = sites.length ? num(sites[sites.length - 1].cumulative) : NaN;
      const withBefore = !(Math.abs(lastCum + before - after) < Math.abs(lastCum - after));
      const coveredAfter = (site) => num(site.cumulative) + (withBefore ? 0 : before);
      const sum = $('#siting-summary');
      sum.hidden = false;
      fill(sum,
        run.generated_demand || res.generated ? generatedBadge() : null,
        el('div', { class: 'before-after' },
          el('div', null, el('span', { class: 'hint', text: _('Covered now') }),
            el('strong', { text: fmtPct(shareOf(before)) }), el('span', { class: 'sub', text: fmt(_('%(n)s children'), { n: fmtInt(before) }) })),
          el('span', { class: 'arrow', 'aria-hidden': 'true', text: '→' }),
          el('div', null, el('span', { class: 'hint', text: fmt(ngettext('With %(k)s new site', 'With %(k)s new sites', sites.length), { k: sites.length }) }),
            el('strong', { text: fmtPct(shareOf(after)) }), el('span', { class: 'sub', text: fmt(_('%(n)s children'), { n: fmtInt(after) }) }))),
        el('p', { class: 'hint', text: sites.length
          ? fmt(_('%(gain)s more children of %(total)s within %(d)s of %(rule)s.'), {
            gain: fmtInt(after - before), total: fmtInt(total), d: fmtDist(thresholdOf(rule)), rule: ruleName(rule),
          })
          : _('No candidate site would cover any more children.') }));
      fill($('#siting-result'), sites.map((s) => el('li', { 'data-rank': s.rank },
        el('button', { type: 'button', class: 'site-item', 'data-lat': s.lat, 'data-lon': s.lon },
          el('span', { class: 'rank site', text: s.rank }),
          el('span', { class: 'site-text' },
            el('strong', { text: fmt(_('+%(n)s children'), { n: fmtInt(s.gain) }) }),
            el('span', { class: 'sub', text: fmt(_('%(n)s children covered in all (%(share)s)'), {
              n: fmtInt(coveredAfter(s)), share: fmtPct(shareOf(coveredAfter(s))),
            }) }),
            el('span', { class: 'sub mono', text: `${Number(s.lon).toFixed(5)}, ${Number(s.lat).toFixed(5)}` }))),
        el('button', {
          type: 'button', class: 'small plan-site', 'data-rank': s.rank, 'data-lon': s.lon, 'data-lat': s.lat, 'data-rule': rule,
          'aria-label': fmt(_('Add site %(n)s to the planned facilities'), { n: s.rank }),
        }, _('Add to plan')))));
      siteLayer.clearLayers();
      for (const s of sites) {
        if (!latlngOK(s.lat, s.lon)) continue;
        L.marker([s.lat, s.lon], {
          icon: numberIcon(s.rank, 'site'), zIndexOffset: 1000,
          title: fmt(_('New site %(n)s: +%(gain)s children'), { n: s.rank, gain: fmtInt(s.gain) }),
        }).addTo(siteLayer);
      }
      renderLegend();
      const pts = sites.filter((s) => latlngOK(s.lat, s.lon)).map((s) => [s.lat, s.lon]);
      if (pts.length) gapMap.fitBounds(L.latLngBounds(pts).pad(0.6), { maxZoom: 16, padding: [24, 24] });
    }
    $('#siting-result').addEventListener('click', async (e) => {
      const plan = e.target.closest('.plan-site');
      if (plan) {
        // A suggested site becomes a planned facility; a new analysis with planned facilities
        // then shows what it changes.
        const r = ruleById.get(String(plan.dataset.rule));
        const category = (r && r.categories && r.categories[0]) || '';
        const name = fmt(_('Suggested site %(n)s: %(rule)s'), { n: plan.dataset.rank, rule: ruleName(plan.dataset.rule) });
        plan.disabled = true;
        try {
          await api('/access/planned', {
            method: 'POST', body: { name, category, lon: Number(plan.dataset.lon), lat: Number(plan.dataset.lat) },
          });
          plan.textContent = _('Added to plan');
          toast(sentences(fmt(_('Added “%(name)s”.'), { name }), _('Start a new analysis with planned facilities to see what it changes.')));
        } catch (err) {
          plan.disabled = false;
          toast(err.message, 'error');
        }
        return;
      }
      const b = e.target.closest('.site-item');
      if (b) zoomTo(Number(b.dataset.lat), Number(b.dataset.lon), null);
    });

    // Compare with another analysis. -------------------------------------------------------------
    async function loadCompareChoices() {
      const sel = $('#compare-run');
      try {
        const data = await api('/access/runs');
        const runs = (Array.isArray(data) ? data : (data && data.results) || [])
          .filter((r) => r.status === 'done' && String(r.id) !== String(runId))
          .sort((a, b) => b.id - a.id);
        fill(sel, el('option', { value: '' }, runs.length ? _('Choose an analysis…') : _('No other finished analysis yet')),
          runs.map((r) => el('option', { value: r.id }, [
            fmt(_('Analysis #%(id)s'), { id: r.id }), areaText(r.area, r.area_name),
            r.params && r.params.include_planned ? _('with planned facilities') : null,
            fmtWhen(r.created_at),
          ].filter(Boolean).join(' · '))));
        sel.disabled = !runs.length;
      } catch (e) {
        sel.disabled = true;
      }
    }
    $('#compare-run').addEventListener('change', async (e) => {
      const other = e.target.value;
      const out = $('#compare-result');
      if (!other) { fill(out); return; }
      // The earlier analysis is "before", the later one "after".
      const a = Math.min(Number(runId), Number(other));
      const b = Math.max(Number(runId), Number(other));
      fill(out, el('p', { class: 'hint', text: _('Loading…') }));
      try {
        const rows = await api(`/access/runs/${a}/compare/${b}`);
        fill(out, compareTable(Array.isArray(rows) ? rows : [], a, b));
      } catch (err) {
        fill(out, el('p', { class: 'error', text: err.message }));
      }
    });
    function compareTable(rows, a, b) {
      if (!rows.length) return el('p', { class: 'hint', text: _('The two analyses have no facility in common.') });
      const pp = (d) => {
        const v = Math.round(d * 1000) / 10;
        return fmt(_('%(sign)s%(v)s pts'), { sign: v > 0 ? '+' : v < 0 ? '−' : '±', v: Math.abs(v) });
      };
      return el('div', { class: 'table-wrap' }, el('table', { class: 'list compare-table', id: 'compare-table' },
        el('thead', null, el('tr', null,
          el('th', { scope: 'col' }, _('Facility')),
          el('th', { scope: 'col', class: 'num' }, fmt(_('#%(id)s (before)'), { id: a })),
          el('th', { scope: 'col', class: 'num' }, fmt(_('#%(id)s (after)'), { id: b })),
          el('th', { scope: 'col', class: 'num' }, _('Change')))),
        el('tbody', null, rows.map((r) => {
          const d = num(r.share_after) - num(r.share_before);
          const dc = num(r.covered_after) - num(r.covered_before);
          return el('tr', null,
            el('th', { scope: 'row' }, ruleName(r.rule, r.label)),
            el('td', { class: 'num' }, fmtPct(r.share_before), el('span', { class: 'sub', text: fmtInt(r.covered_before) })),
            el('td', { class: 'num' }, fmtPct(r.share_after), el('span', { class: 'sub', text: fmtInt(r.covered_after) })),
            Math.abs(d) < 0.0005 && Math.abs(dc) < 0.5
              ? el('td', { class: 'num delta same' }, _('no change'))
              : el('td', { class: `num delta ${d > 0.0005 ? 'up' : d < -0.0005 ? 'down' : 'same'}` },
                Number.isFinite(d) ? pp(d) : '–',
                el('span', { class: 'sub', text: Number.isFinite(dc) ? fmt(_('%(n)s children'), { n: `${dc > 0 ? '+' : dc < 0 ? '−' : ''}${fmtInt(Math.abs(dc))}` }) : '' })));
        }))));
    }

    // Safe routes to school. ---------------------------------------------------------------------
    let routesMap = null;
    let routesLayer = null;
    const ROAD_CLASS = {
      trunk: _('trunk road'), trunk_link: _('trunk road'), primary: _('primary road'), primary_link: _('primary road'),
      secondary: _('secondary road'), secondary_link: _('secondary road'), tertiary: _('tertiary road'),
      tertiary_link: _('tertiary road'), residential: _('residential street'), unclassified: _('minor road'),
      service: _('service road'), living_street: _('living street'),
    };
    async function loadSchools() {
      const sel = $('#school-select');
      try {
        const data = await api('/access/schools');
        const rows = (Array.isArray(data) ? data : []).slice().sort((a, b) => String(a.name).localeCompare(String(b.name), LOCALE));
        fill(sel, el('option', { value: '' }, rows.length ? _('Choose a school…') : _('No schools in this area')),
          rows.map((s) => el('option', { value: s.id }, s.name || fmt(_('School #%(id)s'), { id: s.id }))));
        sel.disabled = !rows.length;
      } catch (e) {
        sel.disabled = true;
        $('#routes-status').textContent = e.message;
      }
    }
    const schoolIcon = () => L.divIcon({
      className: 'school-pin',
      html: '<span><svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="#fff" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M2 9.5 12 5l10 4.5-10 4.5zM6 11.5v5c3 2.2 9 2.2 12 0v-5M22 9.5V15"/></svg></span>',
      iconSize: [32, 32], iconAnchor: [16, 16],
    });
    $('#school-select').addEventListener('change', async (e) => {
      const id = e.target.value;
      const status = $('#routes-status');
      if (!id) return;
      status.textContent = _('Finding the routes…');
      let res;
      try {
        res = await api(`/access/runs/${runId}/safe-routes?${qs({ school: id })}`);
      } catch (err) {
        status.textContent = err.message;
        return;
      }
      if ($('#school-select').value !== id) return;
      status.textContent = '';
      $('#routes-layout').hidden = false;
      if (!routesMap) {
        routesMap = makeMap($('#routes-map'));
        routesMap.setView([39.9042, 116.4074], 14);
        routesLayer = L.layerGroup().addTo(routesMap);
        addBasemap(routesMap, basemapBbox || extentBbox());
      } else {
        routesMap.invalidateSize();
      }
      drawRoutes(res);
    });
    function drawRoutes(res) {
      routesLayer.clearLayers();
      const feats = ((res.routes && res.routes.features) || []).filter((f) => f && f.geometry);
      const kindOf = (f) => (f.properties && f.properties.kind) || '';
      const shortest = feats.filter((f) => kindOf(f) === 'shortest');
      const safest = feats.filter((f) => kindOf(f) === 'safest');
      const group = L.featureGroup().addTo(routesLayer);
      L.geoJSON({ type: 'FeatureCollection', features: shortest }, {
        style: { color: '#7b8794', weight: 3, opacity: 0.75, dashArray: '6 5', lineCap: 'round' }, interactive: false,
      }).addTo(group);
      L.geoJSON({ type: 'FeatureCollection', features: safest }, {
        style: { color: '#1e7b34', weight: 4, opacity: 0.85, lineCap: 'round', lineJoin: 'round' }, interactive: false,
      }).addTo(group);
      if (Array.isArray(res.homes)) {
        for (const h of res.homes) {
          const lat = num(h.lat ?? (h.coordinates && h.coordinates[1]));
          const lon = num(h.lon ?? (h.coordinates && h.coordinates[0]));
          if (latlngOK(lat, lon)) L.circleMarker([lat, lon], { radius: 3, color: '#3e4c59', weight: 1, fillColor: '#fff', fillOpacity: 1, interactive: false }).addTo(group);
        }
      }
      const school = res.school || {};
      if (latlngOK(num(school.lat), num(school.lon))) {
        L.marker([school.lat, school.lon], { icon: schoolIcon(), title: school.name || '', zIndexOffset: 500 }).addTo(group);
      }
      const hotspots = (Array.isArray(res.hotspots) ? res.hotspots : []).slice().sort((a, b) => a.rank - b.rank);
      for (const h of hotspots) {
        if (!latlngOK(num(h.lat), num(h.lon))) continue;
        L.marker([h.lat, h.lon], { icon: numberIcon(h.rank, 'hotspot'), zIndexOffset: 800, title: h.road || '' }).addTo(group);
      }
      const b = group.getBounds();
      if (b.isValid()) routesMap.fitBounds(b.pad(0.1), { maxZoom: 17 });

      // Summary: mean walk and road crossings per child, shortest against safest.
      const st = res.stats || {};
      const mean = (fs, key) => {
        let sw = 0; let sv = 0;
        for (const f of fs) {
          const w = num(f.properties.children) > 0 ? num(f.properties.children) : 1;
          const v = num(f.properties[key]);
          if (Number.isFinite(v)) { sw += w; sv += w * v; }
        }
        return sw > 0 ? sv / sw : NaN;
      };
      const nf1 = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
      const fmt1 = (v) => (Number.isFinite(num(v)) ? nf1.format(num(v)) : '–');
      const homes = Array.isArray(res.homes) ? res.homes.length : num(res.homes);
      const lines = [homes > 0
        ? fmt(ngettext('%(n)s home around %(school)s.', '%(n)s homes around %(school)s.', Math.round(homes) || 0), {
          n: fmtInt(homes), school: school.name || '',
        })
        : fmt(_('No home in this analysis has %(school)s as its nearest school.'), { school: school.name || '' })];
      if (homes > 0 && Number.isFinite(num(res.children))) lines.push(fmt(_('%(n)s school-age children live there.'), { n: fmtInt(res.children) }));
      const row = (cls, label, len, cr) => el('tr', null,
        el('th', { scope: 'row' }, el('i', { class: `line ${cls}` }), label),
        el('td', { class: 'num' }, fmtDist(len)), el('td', { class: 'num' }, fmt1(cr)));
      fill($('#routes-summary'),
        res.generated || run.generated_demand ? generatedBadge() : null,
        el('p', null, sentences(...lines)),
        homes > 0 ? el('table', { class: 'list routes-table' },
          el('thead', null, el('tr', null, el('th', { scope: 'col' }, _('Route')),
            el('th', { scope: 'col', class: 'num' }, _('Mean walk')),
            el('th', { scope: 'col', class: 'num' }, _('Road crossings per walk')))),
          el('tbody', null,
            row('shortest', _('Shortest route'), st.shortest_m ?? mean(shortest, 'length_m'), st.shortest_crossings ?? mean(shortest, 'crossings')),
            row('safest', _('Safest route'), st.safest_m ?? mean(safest, 'length_m'), st.safest_crossings ?? mean(safest, 'crossings')))) : null,
        feats.length && homes > feats.length / 2 ? el('p', { class: 'hint' }, fmt(_('The map shows the routes of the %(n)s homes with the most children.'), { n: fmtInt(feats.length / 2) })) : null);
      fill($('#hotspot-list'), hotspots.length ? hotspots.map((h) => el('li', null,
        el('button', { type: 'button', class: 'hotspot-item', 'data-lat': h.lat, 'data-lon': h.lon },
          el('span', { class: 'rank hotspot', text: h.rank }),
          el('span', { class: 'hotspot-text' },
            el('strong', { text: [h.road || _('Unnamed road'), ROAD_CLASS[h.road_class] || h.road_class].filter(Boolean).join(' · ') }),
            el('span', { class: 'sub', text: sentences(
              fmt(ngettext('%(n)s child crosses here.', '%(n)s children cross here.', Math.round(num(h.children)) || 0), { n: fmtInt(h.children) }),
              h.signals ? _('Has traffic signals.') : (h.marked ? _('Zebra crossing, no signals.') : _('No crossing or signals.'))) })))))
        : el('li', { class: 'empty hint' }, _('The routes cross no busy road.')));
    }
    $('#hotspot-list').addEventListener('click', (e) => {
      const b = e.target.closest('.hotspot-item');
      if (!b || !routesMap) return;
      routesMap.setView([Number(b.dataset.lat), Number(b.dataset.lon)], 18, { animate: true });
      if (isPhone()) scrollIntoViewIfNeeded($('#routes-map'));
    });

    // Show everything once the run is done. ------------------------------------------------------
    async function showResults() {
      resultsEl.hidden = false;
      renderSummary();
      renderChart();
      const ids = summaryRules.map((r) => String(r.rule));
      const options = ids.map((id) => el('option', { value: id }, ruleName(id)));
      fill($('#gap-rule'), options);
      fill($('#siting-rule'), ids.map((id) => el('option', { value: id }, ruleName(id))));
      loadCoverage();
      loadCompareChoices();
      loadSchools();
      if (!ids.length || !L) return;
      ensureGapMap();
      // Start with a facility that exists and leaves children out: that is where the gaps are.
      const first = summaryRules.find((r) => num(r.facilities) > 0 && num(r.children) - num(r.covered) > 0)
        || summaryRules.find((r) => num(r.facilities) > 0) || summaryRules[0];
      gapRule = String(first.rule);
      $('#gap-rule').value = gapRule;
      $('#siting-rule').value = gapRule;
      $$('#summary .rule-card').forEach((c) => c.classList.toggle('is-active', c.dataset.rule === gapRule));
      updateExports();
      gapMap.invalidateSize();
      loadWorst();
      await loadGap();
      loadPlannedOnMap();
    }

    loadAreas().then(() => { if (run) renderHead(); });
    loadRules().then(() => {
      if (run) renderHead();
      if (resultsLoaded && summaryRules.length) {
        renderSummary();
        renderChart();
        renderCoverage();
        for (const sel of [$('#gap-rule'), $('#siting-rule')]) {
          for (const o of sel.options) o.textContent = ruleName(o.value);
        }
        renderLegend();
      }
    });
    poll();
  }

  if (root.dataset.page === 'index') initIndex();
  else if (root.dataset.page === 'run') initRun();
})();
