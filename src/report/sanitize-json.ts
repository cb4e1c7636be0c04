/**
 * JSON for `<script type="application/json">` blocks, escaped like Lighthouse's
 * `ReportGenerator.sanitizeJson`: the result can never close the script element or start an
 * HTML comment, and survives being pasted into a JavaScript string literal.
 */

/**
 * Serialises `value` with `JSON.stringify` and escapes `<` as `\u003c` (so `</script>` and
 * `<!--` cannot appear) and U+2028 / U+2029 (line terminators in pre-ES2019 JavaScript).
 * `JSON.parse` of the result gives back the same value.
 */
export function sanitizeJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null')
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
