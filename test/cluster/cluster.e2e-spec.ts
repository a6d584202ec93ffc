import { clusterCases } from './cluster-suite';
import { servicesGate } from '../support/services';

/**
 * Three server processes sharing the test Redis and PostgreSQL, as behind a load balancer: every promise of
 * the contract must hold whichever instance a client happens to reach. The same cases run on a Redis Cluster in
 * redis-cluster.e2e-spec.ts.
 */
const redis = servicesGate('redis');
const postgres = servicesGate('postgres');

// Whichever service is missing decides: its gate skips the block, or fails it under REQUIRE_SERVICES=1.
const gate = redis.available ? postgres : redis;

gate.describe('cluster of three instances', () => {
  clusterCases(() => ({ REDIS_URL: redis.url }), postgres.url);
});
