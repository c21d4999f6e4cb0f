/** Display formatting shared by every view: the pure text formatters live in src-shared/text. */
export {
  formatBytes,
  formatBytesDelta,
  formatCount,
  formatCountDelta,
  formatEpochMs,
  formatFileTime,
  formatHundredNs,
  formatHundredNsDelta,
  formatMs,
  formatNs,
  formatRate,
  hex32,
  hexNumber,
  parseHex,
  plural,
} from '../../src-shared/text/format';
