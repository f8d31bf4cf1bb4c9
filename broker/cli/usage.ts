export const USAGE = `Usage: rill <command> [options]

Commands:
  start             open the broker and serve until SIGINT or SIGTERM

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
                    serve HTTP without tokens on a non-loopback address
  --authorizer      enforce Kafka ACLs (stored in DIR/acls.json) on the Kafka and HTTP APIs
  --super-users User:a,User:b
                    principals allowed everything (with --authorizer)
  --allow-everyone-if-no-acl-found
                    a resource no ACL names is open to everyone (with --authorizer)

  rill --help       this text
  rill --version    the version
`;
