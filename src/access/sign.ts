import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Signs outgoing requests the way webhooks are signed (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`) with WEBHOOK_SECRET, so one receiver-side
 * check (`new Webhook(secret).verify(body, headers)`) serves both. The secret is `whsec_` + base64; a secret in
 * any other form is used as raw bytes.
 */
export class RequestSigner {
  private readonly webhook: Webhook;

  constructor(secret: string) {
    this.webhook = secret.startsWith('whsec_')
      ? new Webhook(secret)
      : new Webhook(secret, { format: 'raw' });
  }

  headers(body: string, now = new Date()): Record<string, string> {
    const id = `msg_${randomUUID()}`;
    return {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': this.webhook.sign(id, now, body),
    };
  }
}
