// Package chars is the one home of the byte predicates and the case folding
// that the token, path and query syntax checks of scopedtoken share, as
// net/http/internal/ascii is for net/http: the byte classes of base64url, of
// RFC 6750 b64token, of request paths and of queries (looked up in one
// table, since tokens, paths and queries are scanned byte by byte on every
// request), hex digits, the decoding of query-escaped names, and the Unicode
// simple case folding by which strings.EqualFold, and encoding/json's
// matching of member names to struct fields, take two names for one.
package chars
