/**
 * Names from the tcpdump.org LINKTYPE_* registry (without the prefix), for the link types we
 * decode and the common ones we do not, so `tcpmortem info` can say what an interface is.
 */
const NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL'],
  [1, 'ETHERNET'],
  [6, 'IEEE802_5'],
  [9, 'PPP'],
  [12, 'RAW'],
  [14, 'RAW'],
  [50, 'PPP_HDLC'],
  [101, 'RAW'],
  [104, 'C_HDLC'],
  [105, 'IEEE802_11'],
  [108, 'LOOP'],
  [113, 'LINUX_SLL'],
  [119, 'IEEE802_11_PRISM'],
  [127, 'IEEE802_11_RADIOTAP'],
  [192, 'PPI'],
  [220, 'USB_LINUX_MMAPPED'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [239, 'NFLOG'],
  [276, 'LINUX_SLL2'],
]);

/**
 * Returns the registry name of a link type (`1` → `'ETHERNET'`, `276` → `'LINUX_SLL2'`), or
 * `'LINKTYPE_<n>'` for one we do not know.
 */
export function linkTypeName(linkType: number): string {
  return NAMES.get(linkType) ?? `LINKTYPE_${linkType}`;
}

/** True for the link types {@link decodePacket} decodes (others give `UNSUPPORTED_LINK`). */
export function isDecodableLinkType(linkType: number): boolean {
  switch (linkType) {
    case 0: case 1: case 12: case 14: case 101: case 108: case 113: case 228: case 229: case 276:
      return true;
    default:
      return false;
  }
}

const STATUS_NAMES: readonly string[] = [
  'tcp',
  'not_tcp',
  'not_ip',
  'fragment',
  'truncated',
  'malformed',
  'unsupported_link',
];

/**
 * Stable snake_case name of a {@link DecodeStatus} (`TCP` → `'tcp'`, `NOT_IP` → `'not_ip'`), for
 * skip-reason counters and JSON output. An unknown number gives `'unknown'`.
 */
export function decodeStatusName(status: number): string {
  return STATUS_NAMES[status] ?? 'unknown';
}
