import { defaultBrokerConfig } from '../config.ts';
import { SASL_MECHANISMS } from '../security/sasl-server.ts';
import { CLIENT_AUTH_MODES } from '../security/tls-config.ts';

/**
 * How a `rill start` setting is written: as a flag (`--kafka-port 9092`), an environment variable
 * (`RILL_KAFKA_PORT=9092`) or a key of the `--config` file (`kafka-port: 9092`).
 * `list`: comma-separated in a flag or variable, a list or a comma-separated string in the file.
 */
export type StartOptionType = 'string' | 'file' | 'port' | 'milliseconds' | 'count' | 'boolean' | 'choice' | 'list';

export interface StartOptionDefinition {
  /** The flag without its dashes, and the key in the config file. */
  readonly name: string;
  readonly type: StartOptionType;
  /** The value's placeholder in help (`<dir>`). */
  readonly valueName?: string;
  readonly description: string;
  /** What applies when the setting is not given (for help and the reference; the broker's own defaults apply). */
  readonly default?: string | number | boolean;
  /** The allowed values of a `choice`, or of each item of a `list`. */
  readonly choices?: readonly string[];
}

/** Every `rill start` setting: the one table the flags, the environment variables, the config file and the reference come from. */
export const START_OPTIONS: readonly StartOptionDefinition[] = [
  { name: 'data-dir', type: 'string', valueName: 'dir', description: 'where topics and state are stored', default: defaultBrokerConfig.dataDir },
  { name: 'host', type: 'string', valueName: 'host', description: 'address the listeners bind to', default: defaultBrokerConfig.host },
  { name: 'kafka-port', type: 'port', valueName: 'port', description: 'Kafka protocol port (0 picks a free port)', default: defaultBrokerConfig.kafkaPort },
  { name: 'advertised-host', type: 'string', valueName: 'host', description: 'the host clients are told to connect to (default: the bound host)' },
  {
    name: 'max-partitions',
    type: 'count',
    valueName: 'n',
    description: 'partitions of all topics together (internal topics aside); creating more fails with POLICY_VIOLATION',
    default: defaultBrokerConfig.maxPartitions,
  },
  { name: 'http-port', type: 'port', valueName: 'port', description: 'HTTP API port (0 picks a free port)', default: defaultBrokerConfig.httpPort },
  { name: 'http-config', type: 'file', valueName: 'file', description: 'HTTP API settings (JSON): bearer tokens with per-topic ACLs, rate limits, body limit, idempotency window' },
  {
    name: 'allow-unauthenticated',
    type: 'boolean',
    description: 'serve HTTP without tokens or client certificates, or Kafka without SASL or client certificates, on a non-loopback address',
    default: false,
  },
  { name: 'kafka-tls-cert', type: 'file', valueName: 'file', description: 'serve Kafka over TLS with this certificate (PEM; SIGHUP reloads it); with --kafka-tls-key' },
  { name: 'kafka-tls-key', type: 'file', valueName: 'file', description: 'the private key (PEM) of --kafka-tls-cert' },
  { name: 'kafka-tls-ca', type: 'file', valueName: 'file', description: 'CA (PEM) that client certificates must chain to (mTLS)' },
  {
    name: 'kafka-tls-client-auth',
    type: 'choice',
    valueName: 'mode',
    choices: CLIENT_AUTH_MODES,
    description: 'whether Kafka clients must present a certificate (default: required with --kafka-tls-ca, else none)',
  },
  { name: 'http-tls-cert', type: 'file', valueName: 'file', description: 'serve HTTP over TLS with this certificate (PEM; SIGHUP reloads it); with --http-tls-key' },
  { name: 'http-tls-key', type: 'file', valueName: 'file', description: 'the private key (PEM) of --http-tls-cert' },
  { name: 'http-tls-ca', type: 'file', valueName: 'file', description: 'CA (PEM) that HTTP client certificates must chain to (mTLS); a request without a bearer token is then User:<certificate subject>' },
  {
    name: 'http-tls-client-auth',
    type: 'choice',
    valueName: 'mode',
    choices: CLIENT_AUTH_MODES,
    description: 'whether HTTP clients must present a certificate (default: required with --http-tls-ca, else none)',
  },
  { name: 'kafka-sasl-mechanisms', type: 'list', valueName: 'list', choices: SASL_MECHANISMS, description: 'SASL mechanisms the Kafka listener offers' },
  { name: 'kafka-max-reauth-ms', type: 'milliseconds', valueName: 'ms', description: 'SASL session lifetime (connections.max.reauth.ms); 0 = unbounded', default: 0 },
  { name: 'kafka-sasl-user', type: 'string', valueName: 'name', description: 'give this user SCRAM credentials at start if it has none; password from $RILL_KAFKA_SASL_PASSWORD' },
  { name: 'authorizer', type: 'boolean', description: 'enforce Kafka ACLs (stored in the data directory) on the Kafka and HTTP APIs', default: false },
  { name: 'super-users', type: 'list', valueName: 'list', description: 'principals allowed everything, such as User:admin (with --authorizer)' },
  { name: 'allow-everyone-if-no-acl-found', type: 'boolean', description: 'a resource no ACL names is open to everyone (with --authorizer)', default: false },
  { name: 'mqtt-port', type: 'port', valueName: 'port', description: 'serve MQTT 3.1.1 and 5.0 on this port (off by default; 0 picks a free port)' },
  {
    name: 'mqtt-mapping',
    type: 'file',
    valueName: 'file',
    description: 'MQTT topic mapping rules (JSON): [{"filter": "sensors/+/temp", "topic": "sensors", "key": "{1}"}]; default: first level = topic, the rest = key',
  },
  { name: 'mqtt-tls-cert', type: 'file', valueName: 'file', description: 'serve MQTT over TLS only (mqtts) on --mqtt-port with this certificate (PEM; SIGHUP reloads it); with --mqtt-tls-key' },
  { name: 'mqtt-tls-key', type: 'file', valueName: 'file', description: 'the private key (PEM) of --mqtt-tls-cert' },
  { name: 'mqtt-tls-ca', type: 'file', valueName: 'file', description: 'CA (PEM) that MQTT client certificates must chain to (mTLS); a CONNECT without credentials is then User:<certificate subject>' },
  {
    name: 'mqtt-tls-client-auth',
    type: 'choice',
    valueName: 'mode',
    choices: CLIENT_AUTH_MODES,
    description: 'whether MQTT clients must present a certificate (default: required with --mqtt-tls-ca, else none)',
  },
];

/** The environment variable of a setting: `data-dir` → `RILL_DATA_DIR`. */
export function envVarOf(name: string): string {
  return `RILL_${name.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * The settings as parsed, keyed by flag name: strings as written (a list comma-separated), true
 * for a boolean that is on; a setting not given is absent. What the start option readers take.
 */
export type StartValues = Readonly<Record<string, string | boolean | undefined>>;
