/**
 * The etcd cluster of the tests: src/cli/etcdCluster.ts (a throwaway N-member cluster on 127.0.0.1, which `agctl
 * demo --coordination etcd` and the etcd bench start too), under the names the suites use.
 */
export {
  ETCD_LOCAL_PORTS as ETCD_TEST_PORTS,
  ETCD_LOCAL_TIMING as ETCD_TEST_TIMING,
  etcdUnavailableReason,
  startEtcdCluster,
  type EtcdCluster,
  type EtcdClusterOptions,
  type EtcdMember,
} from '../../src/cli/etcdCluster.js';
