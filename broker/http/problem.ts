import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';

/**
 * RFC 9457 problem details. Every rejection the HTTP API makes is one of these, sent as
 * `application/problem+json`; `type` is a stable URI per kind of problem so clients can branch on
 * it, `detail` says what was wrong with this request, and `errors` lists every validation error.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: readonly unknown[];
  /** The Kafka error name when a broker error caused the problem. */
  kafkaError?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const ProblemType = {
  badRequest: { status: 400, title: 'Malformed request', slug: 'bad-request' },
  unauthorized: { status: 401, title: 'Authentication required', slug: 'unauthorized' },
  forbidden: { status: 403, title: 'Not allowed', slug: 'forbidden' },
  notFound: { status: 404, title: 'Not found', slug: 'not-found' },
  conflict: { status: 409, title: 'Conflict', slug: 'conflict' },
  payloadTooLarge: { status: 413, title: 'Request body too large', slug: 'payload-too-large' },
  unsupportedMediaType: { status: 415, title: 'Unsupported content type', slug: 'unsupported-media-type' },
  notAcceptable: { status: 406, title: 'Not acceptable', slug: 'not-acceptable' },
  validation: { status: 422, title: 'Validation failed', slug: 'validation-failed' },
  tooManyRequests: { status: 429, title: 'Too many requests', slug: 'too-many-requests' },
  internal: { status: 500, title: 'Internal error', slug: 'internal' },
  /** Stored records that cannot be decoded: the data is damaged or no codec reads it. */
  corruptRecords: { status: 500, title: 'Stored records cannot be decoded', slug: 'corrupt-records' },
  unsupportedCompression: { status: 501, title: 'Unsupported compression', slug: 'unsupported-compression' },
  unavailable: { status: 503, title: 'Service unavailable', slug: 'unavailable' },
} as const;
export type ProblemTypeName = keyof typeof ProblemType;

/** A rejection thrown by a route; the app's error handler turns it into a problem response. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  readonly problem: ProblemDetails;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    kind: ProblemTypeName,
    detail: string,
    extra: { errors?: readonly unknown[]; kafkaError?: string; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    const { status, title, slug } = ProblemType[kind];
    this.problem = {
      type: `https://rill.dev/problems/${slug}`,
      title,
      status,
      detail,
      ...(extra.errors === undefined ? {} : { errors: extra.errors }),
      ...(extra.kafkaError === undefined ? {} : { kafkaError: extra.kafkaError }),
    };
    this.headers = extra.headers ?? {};
  }
}

const kafkaErrorKinds: Readonly<Record<string, ProblemTypeName>> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'notFound',
  GROUP_ID_NOT_FOUND: 'notFound',
  TOPIC_ALREADY_EXISTS: 'conflict',
  MESSAGE_TOO_LARGE: 'payloadTooLarge',
  INVALID_TIMESTAMP: 'validation',
  INVALID_RECORD: 'validation',
  RECORD_LIST_TOO_LARGE: 'payloadTooLarge',
  INVALID_TOPIC_EXCEPTION: 'badRequest',
  INVALID_PARTITIONS: 'badRequest',
  // A broker limit the request would pass (partitions, groups, checker registrations): the request is fine, the broker full.
  POLICY_VIOLATION: 'conflict',
  INVALID_CONFIG: 'badRequest',
  INVALID_REQUEST: 'badRequest',
  INVALID_REPLICATION_FACTOR: 'badRequest',
  OFFSET_OUT_OF_RANGE: 'badRequest',
  NON_EMPTY_GROUP: 'conflict',
  INVALID_GROUP_ID: 'badRequest',
  ILLEGAL_GENERATION: 'conflict',
  UNKNOWN_MEMBER_ID: 'conflict',
  REBALANCE_IN_PROGRESS: 'conflict',
  KAFKA_STORAGE_ERROR: 'unavailable',
  BROKER_NOT_AVAILABLE: 'unavailable',
  NOT_LEADER_OR_FOLLOWER: 'unavailable',
  COORDINATOR_NOT_AVAILABLE: 'unavailable',
  CORRUPT_MESSAGE: 'corruptRecords',
  UNSUPPORTED_COMPRESSION_TYPE: 'unsupportedCompression',
  TOPIC_AUTHORIZATION_FAILED: 'forbidden',
  GROUP_AUTHORIZATION_FAILED: 'forbidden',
  CLUSTER_AUTHORIZATION_FAILED: 'forbidden',
};

/** Maps any thrown value to a problem: HttpProblems as they are, KafkaErrors by code, the rest as 500. */
export function toHttpProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (isKafkaError(error)) {
    const kind = kafkaErrorKinds[error.errorName] ?? (error.retriable ? 'unavailable' : 'internal');
    return new HttpProblem(kind, error.message, { kafkaError: error.errorName });
  }
  return new HttpProblem('internal', error instanceof Error ? error.message : String(error));
}

export function problemResponse(problem: HttpProblem): Response {
  return new Response(JSON.stringify(problem.problem), {
    status: problem.problem.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...problem.headers },
  });
}
