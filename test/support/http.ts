/** HTTP requests with JSON bodies, for the server API (`/api/...`) and the other HTTP endpoints. */

export interface JsonResponse {
  status: number;
  /** The parsed JSON body; undefined when the body is empty. */
  body: any;
}

/**
 * Sends `body` (when given) as JSON, with `Authorization: Bearer <bearer>` (when given), and resolves with the
 * status and the parsed body.
 */
export async function requestJson(
  url: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  body?: unknown,
  bearer?: string | null,
): Promise<JsonResponse> {
  const headers: Record<string, string> = {};
  if (bearer !== undefined && bearer !== null) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Calls the server API of `target`; `key` is the API key sent as bearer token, null for none. */
export type ServerApi = (
  target: { url: string },
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  key?: string | null,
) => Promise<JsonResponse>;

/** A server API caller that authenticates with `apiKey` unless a call names another key (or null). */
export function serverApi(apiKey: string): ServerApi {
  return (target, method, path, body, key = apiKey) =>
    requestJson(`${target.url}${path}`, method, body, key);
}
