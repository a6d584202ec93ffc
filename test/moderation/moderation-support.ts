/**
 * What the moderation e2e files share: the stores each block runs on, the server API caller, and helpers that set
 * a room up (roles through the server API) and read its audit log.
 */
import { rid } from '../support/fixtures';
import { serverApi, type JsonResponse } from '../support/http';
import type { TestClient, Frame } from '../support/ws-client';

export const API_KEY = 'moderation-key-0123456789abcdef0123';
export const api = serverApi(API_KEY);

/** Generous rate limits: tests fire many requests from one connection. */
export const MOD_ENV = {
  API_KEY,
  RATE_LIMIT_PER_SEC: '100000',
  RATE_LIMIT_BURST: '100000',
};

/** Unique per run: PostgreSQL data outlives it. */
export const uid = (name: string): string => `${name}-${rid()}`;

export async function setRole(
  target: { url: string },
  room: string,
  userId: string,
  role: string,
): Promise<void> {
  const res = await api(target, 'PUT', `/api/rooms/${room}/roles/${userId}`, { role });
  expect(res.status).toBe(204);
}

export async function auditOf(target: { url: string }, room: string): Promise<any[]> {
  const res: JsonResponse = await api(target, 'GET', `/api/rooms/${room}/audit?limit=100`);
  expect(res.status).toBe(200);
  return res.body.entries as any[];
}

/** The error frame of a request that must fail. */
export async function refused(client: TestClient, event: string, data: unknown): Promise<Frame> {
  const reply = await client.request(event, data, 15_000);
  expect(reply.event).toBe('error');
  return reply;
}

export const forbidden = (reason: string, until?: number): Record<string, unknown> => ({
  code: 'forbidden',
  message: expect.any(String),
  details: until === undefined ? { reason } : { reason, until },
});
