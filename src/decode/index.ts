/**
 * Decode stage: a record's bytes in, a {@link TcpSegment} (numbers only) or a skip reason out.
 * See {@link decodePacket}.
 */
export { decodeFrame, decodePacket } from './decode-packet.ts';
export { flagsToText } from './flags-text.ts';
export { formatAddress } from './address-text.ts';
export { decodeStatusName, isDecodableLinkType, linkTypeName } from './link-type-name.ts';
export {
  ANOMALY,
  DecodeStatus,
  LINKTYPE,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_NS,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  createTcpSegment,
} from './types.ts';
export type { TcpSegment } from './types.ts';
