/** Where and as whom to reach etcd: what the settings collect and the etcd store takes. */
export interface EtcdConnection {
  /** `http(s)://host:port`; several for a cluster (requests fail over between them). */
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
}
