// Package demo holds what the router examples and their tests share: a
// generated demo key, the middleware that trusts it, a minter, the JSON the
// demo handlers answer with, and a server that shuts down cleanly.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/mint"
)

// BusinessID is the business the demo key belongs to: the one that "me"
// stands for in its tokens' aud paths.
const BusinessID = "42"

// Kit is a freshly generated demo key with the middleware that trusts it and
// a minter that signs with it.
type Kit struct {
	Middleware *scopedtoken.Middleware
	Minter     *mint.Minter
}

// NewKit generates an HS256 key for BusinessID and builds the middleware
// from cfg (Keys and Now are set here) and a minter whose tokens live an hour.
// A nil now means time.Now.
func NewKit(cfg scopedtoken.Config, now func() time.Time) (*Kit, error) {
	if now == nil {
		now = time.Now
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	keys, err := scopedtoken.StaticKeys(scopedtoken.Key{ID: "demo", Algorithm: "HS256", Secret: secret, BusinessID: BusinessID})
	if err != nil {
		return nil, err
	}
	cfg.Keys, cfg.Now = keys, now
	mw, err := scopedtoken.New(cfg)
	if err != nil {
		return nil, err
	}
	mt, err := mint.New(mint.Config{
		Key:      mint.Key{ID: "demo", Algorithm: "HS256", Secret: secret},
		Lifetime: time.Hour,
		Now:      now,
	})
	if err != nil {
		return nil, err
	}
	return &Kit{Middleware: mw, Minter: mt}, nil
}

// Reply is what the demo handlers answer: the endpoint, the business the
// token acts for, the business ID the router extracted from the path, and the
// query as the handler sees it after the middleware bound the token's.
type Reply struct {
	Endpoint     string     `json:"endpoint"`
	Business     string     `json:"business"`
	PathBusiness string     `json:"pathBusiness"`
	Query        url.Values `json:"query"`
	TokenQuery   url.Values `json:"tokenQuery"`
	ExpiresAt    time.Time  `json:"expiresAt"`
}

// WriteReply answers with Reply as JSON, or 500 when the request carries no
// token: a demo handler mounted without the middleware is a bug.
func WriteReply(w http.ResponseWriter, r *http.Request, endpoint, pathBusiness string) {
	tok, ok := scopedtoken.FromContext(r.Context())
	if !ok {
		http.Error(w, "no verified token", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(Reply{ //nolint:errcheck // the client went away
		Endpoint:     endpoint,
		Business:     tok.BusinessID(),
		PathBusiness: pathBusiness,
		Query:        r.URL.Query(),
		TokenQuery:   tok.Query().URLValues(),
		ExpiresAt:    tok.ExpiresAt(),
	})
}

// Serve serves h on ln until ctx is done, then shuts the server down,
// letting requests in flight finish for up to five seconds.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// PrintUsage writes a curl command for each demo request against base.
func PrintUsage(out io.Writer, base string, reqs []Request) {
	for _, q := range reqs {
		fmt.Fprintf(out, "# %s -> expect %d\n", q.Note, q.Want)
		auth := ""
		if q.Token != "" {
			auth = " -H 'Authorization: Bearer " + q.Token + "'"
		}
		fmt.Fprintf(out, "curl -i%s '%s%s'\n\n", auth, base, q.Target)
	}
}

// Request is one demo request: its target (path and query), token and the
// status the demo expects.
type Request struct {
	Note   string
	Target string
	Token  string
	Want   int
}

// Requests mints the tokens of the standard demo requests: an allowed one
// whose query claim overrides the request's, one outside the token's aud,
// one with an expired token, one without a token, and a malformed path.
func (k *Kit) Requests() ([]Request, error) {
	search, err := k.Minter.Mint(mint.Claims{
		Audience: []string{"/v2/accounts/me/search"},
		Query:    url.Values{"experienceKey": {"demo-experience"}},
	})
	if err != nil {
		return nil, err
	}
	expired, err := k.Minter.Mint(mint.Claims{Audience: []string{"/v2/accounts/me/search"}, ExpiresIn: -time.Hour})
	if err != nil {
		return nil, err
	}
	return []Request{
		{"allowed; the token's experienceKey replaces the request's", "/v2/accounts/me/search?experienceKey=other&input=pizza", search, http.StatusOK},
		{"outside the token's aud", "/v2/accounts/me/answers", search, http.StatusForbidden},
		{"expired token", "/v2/accounts/me/search", expired, http.StatusUnauthorized},
		{"no token", "/v2/accounts/me/search", "", http.StatusUnauthorized},
		{"encoded dot segment in the path", "/v2/accounts/me/search/%2e%2e/answers", search, http.StatusBadRequest},
	}, nil
}
