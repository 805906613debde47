package scopedtoken

import (
	"context"
	"sync"

	"github.com/scopedtoken/scopedtoken/internal/jose"
	"github.com/scopedtoken/scopedtoken/internal/strictjson"
)

// This file is the signature layer: compact JWS syntax, the header, key
// lookup by kid, the alg binding and the signature check. Nothing of the
// payload is read before the signature has verified, and the JSON read
// before it is bounded by MaxHeaderBytes and MaxHeaderValues rather than by
// MaxTokenBytes, so that a token nobody signed costs little to refuse. The
// syntax and the header's rules are package jose's; the signature check is
// package alg's.

// MaxHeaderBytes is the most bytes a token's protected header may have once
// decoded, and MaxHeaderValues the most JSON values it may hold (members and
// array elements, at any depth). A token over either is refused with
// ErrTokenTooLarge before its signature is checked. A header of alg, kid and
// typ takes 3 values and under 100 bytes; one that also embeds a jwk or an
// x5c chain (never used) still fits, unless the certificates are large.
const (
	MaxHeaderBytes  = jose.MaxHeaderBytes
	MaxHeaderValues = jose.MaxHeaderValues
)

// scratch holds the per-verification buffers, reused through a pool so that a
// rejected token costs no allocation. The header, the strings unescaped from
// it and its member names fit in them whatever the header says; names also
// serves the claims (it holds no pointer, so it keeps no token alive).
type scratch struct {
	raw, header, headerStrings, sig, payload []byte
	names                                    []strictjson.Name
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{raw: make([]byte, 0, 1024), header: make([]byte, 0, MaxHeaderBytes),
		headerStrings: make([]byte, 0, MaxHeaderBytes), sig: make([]byte, 0, 512), payload: make([]byte, 0, 1024),
		names: make([]strictjson.Name, 0, strictjson.SmallNames)}
}}

// jws is a token whose signature has verified.
type jws struct {
	kid     string // set once the header has been read, even on failure
	key     *VerificationKey
	payload string // decoded
}

// verifyJWS checks everything of docs/security.md that concerns the header and
// signature, and returns the verified, decoded payload. The payload is only
// decoded after the signature has verified. headers is a memo of headers
// already read (nil: none).
func verifyJWS(ctx context.Context, keys KeySet, token string, maxBytes int, headers *jose.HeaderMemo) (jws, *Error) {
	if len(token) > maxBytes {
		return jws{}, errTokenTooLarge
	}
	d1, d2, ok := jose.Split(token)
	if !ok {
		return jws{}, errMalformedToken
	}
	if jose.DecodedLen(d1) > MaxHeaderBytes {
		return jws{}, errTokenTooLarge
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.raw = append(sc.raw[:0], token...)
	raw := sc.raw
	h, known := headers.Get(raw[:d1])
	if !known {
		if sc.header, ok = jose.Decode(sc.header[:0], raw[:d1]); !ok || len(sc.header) == 0 {
			return jws{}, errMalformedToken
		}
	}
	// The signature is checked for its encoding here, and decoded once the key
	// says how long it must be.
	sigSeg := raw[d2+1:]
	if !jose.WellFormed(sigSeg) {
		return jws{}, errMalformedToken
	}
	payloadSeg := raw[d1+1 : d2]
	if !jose.ValidB64(payloadSeg) || len(payloadSeg) == 0 {
		return jws{}, errMalformedToken
	}
	if !known {
		var f jose.Fault
		if h, f = jose.ParseHeader(sc.header, sc.headerStrings, sc.names); f != jose.OK {
			return jws{}, refusal(f)
		}
	}
	alg, kid := h.Alg, h.Kid
	key, err := keys.LookupKey(ctx, kid)
	if err != nil {
		return jws{kid: kid}, lookupError(err)
	}
	if key == nil || key.id != kid {
		return jws{kid: kid}, errUnknownKID // a KeySet that answers wrongly fails closed
	}
	if alg != key.alg {
		return jws{kid: kid}, errAlgMismatch
	}
	if jose.DecodedLen(len(sigSeg)) != key.v.SignatureSize() {
		return jws{kid: kid}, errBadSignature
	}
	if sc.sig, ok = jose.DecodeChecked(sc.sig[:0], sigSeg); !ok { // checked by jose.WellFormed
		return jws{kid: kid}, errMalformedToken
	}
	if !key.v.Verify(raw[:d2], sc.sig) {
		return jws{kid: kid}, errBadSignature
	}
	if sc.payload, ok = jose.DecodeChecked(sc.payload[:0], payloadSeg); !ok { // checked above
		return jws{kid: kid}, errMalformedToken
	}
	if !known {
		headers.Put(token[:d1], h) // only the header of a token that verified
	}
	// One string of the payload: the claims' strings are substrings of it.
	return jws{kid: kid, key: key, payload: string(sc.payload)}, nil
}

// refusal is the reason a token is refused for a fault of its header or
// claims, or nil.
func refusal(f jose.Fault) *Error {
	switch f {
	case jose.OK:
		return nil
	case jose.Duplicate:
		return errDuplicateMember
	case jose.Ambiguous:
		return errAmbiguousMember
	case jose.TooLarge:
		return errTokenTooLarge
	case jose.Unsupported:
		return errUnsupportedHeader
	case jose.UnknownAlg:
		return errAlgMismatch
	case jose.NoKID:
		return errMissingKID
	}
	return errMalformedToken
}
