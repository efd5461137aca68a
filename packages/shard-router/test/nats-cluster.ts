// Test helper: the real 3-node nats-server cluster on loopback that the replication tests start
// and stop (its code lives in src, where the bench starts the same cluster).
export {
  natsServerBinary,
  startNatsCluster,
  type NatsCluster,
  type NatsNode,
} from '../src/replication/local-cluster.js';
