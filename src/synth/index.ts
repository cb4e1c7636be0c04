/** Synthetic traffic for tests, fixtures and the benchmark. */
export { buildTcpFrame, createTcpFrameFields, frameLength, specToFields, TcpFrameWriter } from './packet-builder.ts';
export type { TcpFrameFields, TcpFrameSpec, TcpOptionsSpec } from './packet-builder.ts';
export { DEFAULT_CONVERSATION_OPTIONS, generateConversations } from './conversation.ts';
export type { ConversationOptions, FrameSink, GenerationSummary } from './conversation.ts';
export { parseAddress } from '../decode/address-parse.ts';
export { Prng } from './prng.ts';
