/** Types of cluster-key-slot (the CRC16 key-slot function ioredis itself uses); the package ships none. */
declare module 'cluster-key-slot' {
  /** The Redis Cluster slot (0..16383) of a key, honouring its `{hash tag}`. */
  function calculateSlot(key: string): number;
  export = calculateSlot;
}
