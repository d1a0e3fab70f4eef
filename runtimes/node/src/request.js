'use strict';
// context.req: the request fields a function sees (runtimes spec 1.5 and 1.6).

const RESERVED_PREFIX = 'x-open-runtimes-';

/** A request the runtime cannot turn into a context; its message is the whole error text. */
class RequestError extends Error {}

/** Sets a key, even "__proto__", as a plain own property. */
function setKey(map, key, value) {
  Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Lower-cased request headers, repeats joined (cookie with "; "), protocol headers kept. */
function allHeaders(rawHeaders) {
  const headers = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const value = rawHeaders[i + 1];
    if (Object.prototype.hasOwnProperty.call(headers, name)) {
      headers[name] += (name === 'cookie' ? '; ' : ', ') + value;
    } else {
      setKey(headers, name, value);
    }
  }
  return headers;
}

/** The headers a function may see: everything but the reserved x-open-runtimes- prefix. */
function visibleHeaders(headers) {
  const visible = {};
  for (const name of Object.keys(headers)) {
    if (!name.startsWith(RESERVED_PREFIX)) setKey(visible, name, headers[name]);
  }
  return visible;
}

/** Splits a Host header into host and port text; IPv6 literals keep their brackets. */
function splitHost(hostHeader) {
  if (hostHeader.startsWith('[')) {
    const end = hostHeader.indexOf(']');
    if (end < 0) return { host: hostHeader, portText: '' };
    const rest = hostHeader.slice(end + 1);
    return { host: hostHeader.slice(0, end + 1), portText: rest.startsWith(':') ? rest.slice(1) : rest };
  }
  const colon = hostHeader.indexOf(':');
  if (colon < 0) return { host: hostHeader, portText: '' };
  return { host: hostHeader.slice(0, colon), portText: hostHeader.slice(colon + 1) };
}

/** The path and query string of a request target, raw; absolute-form targets give their path. */
function splitTarget(target) {
  let rest = target;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const mark = rest.indexOf('?');
  const path = mark < 0 ? rest : rest.slice(0, mark);
  return { path: path === '' ? '/' : path, queryString: mark < 0 ? '' : rest.slice(mark + 1) };
}

/** The query map: split on & and the first =, with no decoding; later keys win. */
function parseQuery(queryString) {
  const query = {};
  for (const segment of queryString.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    if (eq < 0) setKey(query, segment, '');
    else setKey(query, segment.slice(0, eq), segment.slice(eq + 1));
  }
  return query;
}

/**
 * Builds context.req from the Node request, its parsed headers and its body.
 * Throws an Error for a missing or malformed Host and for an invalid JSON body.
 */
function buildRequest(nodeReq, headers, body) {
  const forwarded = (headers['x-forwarded-proto'] || '').trim();
  const scheme = forwarded === '' ? 'http' : forwarded;
  const hostHeader = headers.host || '';
  if (hostHeader === '') throw new RequestError('Missing "Host" header.');
  const { host, portText } = splitHost(hostHeader);
  if (portText !== '' && !/^[0-9]+$/.test(portText)) throw new RequestError(`Invalid port in "Host" header: ${portText}`);
  const defaultPort = scheme === 'https' ? 443 : 80;
  const port = portText === '' ? defaultPort : Number(portText);
  const { path, queryString } = splitTarget(nodeReq.url || '');

  let url = `${scheme}://${host}`;
  if (port !== defaultPort) url += `:${port}`;
  url += path;
  if (queryString !== '') url += `?${queryString}`;

  const bodyRaw = body.toString('utf8');
  const contentType = (headers['content-type'] || 'text/plain').toLowerCase();
  let parsed = bodyRaw;
  if (contentType.includes('application/json')) {
    if (body.length === 0) {
      parsed = {};
    } else {
      try {
        parsed = JSON.parse(bodyRaw);
      } catch (error) {
        throw new RequestError(`Invalid JSON body.\n${error.message}`);
      }
    }
  }

  return {
    bodyRaw,
    body: parsed,
    headers: visibleHeaders(headers),
    method: nodeReq.method,
    scheme,
    host,
    port,
    path,
    queryString,
    query: parseQuery(queryString),
    url,
  };
}

module.exports = { RequestError, allHeaders, buildRequest, parseQuery, splitHost, splitTarget };
