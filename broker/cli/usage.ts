export const USAGE = `Usage: rill <command> [options]

Commands:
  start             open the broker and serve until SIGINT or SIGTERM
  streams reset     reset a stopped streams application for reprocessing (--help for options)
  streams diff      compare two output topics key by key (--help for options)
  replay            copy a range of a topic into another, exactly once (--help for options)
  run JOB           run a stream job module until SIGINT or SIGTERM

Options for start:
  --data-dir DIR    where topics and state are stored (default ./rill-data)
  --host HOST       address the listeners bind to (default 127.0.0.1)
  --kafka-port N    Kafka protocol port (default 9092; 0 picks a free port)
  --advertised-host HOST
                    the host clients are told to connect to (default: the bound host)
  --http-port N     HTTP API port (default 8080; 0 picks a free port)
  --http-config FILE
                    HTTP API settings (JSON): bearer tokens with per-topic ACLs, rate
                    limits, body limit, idempotency window
  --allow-unauthenticated
                    serve HTTP without tokens or client certificates, or Kafka
                    without SASL or client certificates, on a non-loopback address
  --http-tls-cert FILE --http-tls-key FILE
                    serve HTTP over TLS (PEM files; SIGHUP reloads them)
  --http-tls-ca FILE
                    CA that HTTP client certificates must chain to (mTLS); a request
                    without a bearer token is then User:<certificate subject>
  --http-tls-client-auth none|requested|required
                    whether HTTP clients must present a certificate (default:
                    required with --http-tls-ca, else none)
  --kafka-tls-cert FILE --kafka-tls-key FILE
                    serve Kafka over TLS (PEM files; SIGHUP reloads them)
  --kafka-tls-ca FILE
                    CA that client certificates must chain to (mTLS)
  --kafka-tls-client-auth none|requested|required
                    whether clients must present a certificate (default: required
                    with --kafka-tls-ca, else none)
  --kafka-sasl-mechanisms LIST
                    SASL on the Kafka listener: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
  --kafka-max-reauth-ms N
                    SASL session lifetime (connections.max.reauth.ms); 0 = unbounded
  --kafka-sasl-user NAME
                    give NAME SCRAM credentials at start if it has none; password
                    from $RILL_KAFKA_SASL_PASSWORD
  --authorizer      enforce Kafka ACLs (stored in DIR/acls.json) on the Kafka and HTTP APIs
  --super-users User:a,User:b
                    principals allowed everything (with --authorizer)
  --allow-everyone-if-no-acl-found
                    a resource no ACL names is open to everyone (with --authorizer)

Options for run (JOB: a module whose default export is defineJob({...}) of rill/streams):
  --bootstrap HOST:PORT[,HOST:PORT...]
                    the Kafka-compatible broker(s) to run against, over TCP
  --embedded        run against a broker opened in this process instead
  --data-dir DIR    the embedded broker's data directory (required with --embedded)
  --kafka-port N    also serve the embedded broker over Kafka on 127.0.0.1:N (0 picks one)
  --application-id ID
                    override the job's applicationId (the group, internal topic prefix)
  --state-dir DIR   where task state is kept (overrides the job's config)
  --guarantee exactly_once|at_least_once
                    override the job's processing guarantee
  --http-port N     serve the application's queries, /metrics and /health on 127.0.0.1:N
  --describe        print the job's topology and exit, without connecting
  --verbose         print stack traces of failures

  rill --help       this text
  rill --version    the version
`;
