/** KIP-932's AcknowledgeType values on the wire (ShareFetch and ShareAcknowledge acknowledgement batches). */
export const AcknowledgeType = { GAP: 0, ACCEPT: 1, RELEASE: 2, REJECT: 3 } as const;
export type AcknowledgeTypeValue = (typeof AcknowledgeType)[keyof typeof AcknowledgeType];
