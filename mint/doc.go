// Package mint issues the scoped tokens that package scopedtoken verifies
// (docs/minting.md). A [Minter], built by [New] from one [Key] (an HMAC
// secret or a private key, checked as scopedtoken.NewVerificationKey checks a
// verification key), signs [Claims]: the aud paths a token may call, its
// query claim, its lifetime and, for single use, the once claim of
// docs/revocation.md. With [Config].Verify set, every token is first checked
// by the middleware that will receive it (scopedtoken.Middleware.VerifyUnused,
// which does not use up a single-use token), so a token the API would refuse
// is never handed out.
//
// [LoadSpecs] reads a site's named token specs (which key, what claims, on
// which pages) and mints them per page; the keys come from a [KeySource]:
// [DirKeySource], [EnvKeySource] or your own. [ParsePrivateKeyPEM] and
// [ParsePublicKeyPEM] read PEM keys, repairing copy-paste damage, and
// [TokenURL] puts a token in a link.
//
// Tokens are minted by exactly the rules the middleware verifies by: the
// algorithms and key checks, the registered claim names, the aud grammar and
// the strict JSON reading come from the module's internal packages, which
// package scopedtoken reads tokens with. Package mint imports scopedtoken,
// never the reverse, so a server that only verifies links none of this
// package.
//
// A minimal use:
//
//	m, err := mint.New(mint.Config{Key: mint.Key{ID: "k1", Algorithm: "HS256", Secret: secret}})
//	if err != nil {
//		log.Fatal(err) // the key does not fit its algorithm
//	}
//	token, err := m.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}})
package mint
