// history.js — the last 20 calls per endpoint, kept in localStorage:
// {at (ISO time), request, metadata, address, timeout, status, ok, elapsed_ms}.

const LIMIT = 20;
const key = (service, endpoint) => `micro-web.history.${service}/${endpoint}`;

export function loadHistory(service, endpoint) {
  try {
    const list = JSON.parse(localStorage.getItem(key(service, endpoint)) || '[]');
    return Array.isArray(list) ? list.filter((e) => e && typeof e === 'object') : [];
  } catch {
    return [];
  }
}

export function addHistory(service, endpoint, entry) {
  const list = [entry, ...loadHistory(service, endpoint)].slice(0, LIMIT);
  try { localStorage.setItem(key(service, endpoint), JSON.stringify(list)); } catch { /* storage full or disabled */ }
  return list;
}

export function clearHistory(service, endpoint) {
  try { localStorage.removeItem(key(service, endpoint)); } catch { /* ignore */ }
}
