// commands.js — builds the "Copy as curl" and "Copy as micro call" command lines, quoted for
// POSIX shells (single quotes, with ' written as '\'').

/** Always single-quote. */
export function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/** Quote only when the word has characters a shell would treat specially. */
export function shellWord(s) {
  const str = String(s);
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(str) ? str : shellQuote(str);
}

/** curl against the API gateway form: POST http://127.0.0.1:8080/api/SERVICE/ENDPOINT */
export function curlCommand(service, endpoint, request, metadata = {}) {
  const url = `http://127.0.0.1:8080/api/${encodeURIComponent(service)}/${encodeURIComponent(endpoint)}`;
  let cmd = `curl -X POST ${shellWord(url)} -H 'Content-Type: application/json' -d ${shellQuote(JSON.stringify(request))}`;
  for (const [k, v] of Object.entries(metadata)) cmd += ` -H ${shellQuote(`${k}: ${v}`)}`;
  return cmd;
}

/** micro call SERVICE ENDPOINT 'JSON' --metadata K=V ... */
export function microCommand(service, endpoint, request, metadata = {}) {
  let cmd = `micro call ${shellWord(service)} ${shellWord(endpoint)} ${shellQuote(JSON.stringify(request))}`;
  for (const [k, v] of Object.entries(metadata)) cmd += ` --metadata ${shellWord(`${k}=${v}`)}`;
  return cmd;
}
