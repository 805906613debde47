// Package strictjson is a strict, single-pass JSON scanner for token headers
// and claims, and the checks of their member names. It accepts a subset of
// what encoding/json accepts and never a different reading of it: valid
// UTF-8 only, no lone surrogate escapes, no duplicate member names at any
// depth (compared after unescaping), no two names of one object that
// encoding/json's case folding would merge, and bounded nesting. Anything
// else is an error, so two parsers can never disagree about what a token
// says (docs/security.md). The middleware reads tokens with it, and package
// mint checks the claims it mints and its token specs with it.
//
// A scan of a header (MaxValues set, ExactNames set, Arena and Names lent)
// allocates nothing whatever the header holds.
package strictjson
