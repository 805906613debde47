package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
)

// instance is one demo instance and the commands it printed.
type instance struct {
	d       *demo
	printed string
	cmds    []printedCommand
}

// search and once are the printed commands with the search token and the
// single-use token; answers calls the API with the token of the emailed
// link. Two instances that share the secret and start within the same
// second print the same search and link tokens (no jti, same claims), and
// single-use tokens of their own.
func (i instance) search() printedCommand { return i.cmds[0] }
func (i instance) once() printedCommand   { return i.cmds[5] }
func (i instance) answers() printedCommand {
	_, tok, ok := strings.Cut(i.d.link, "jwt=")
	if !ok {
		panic("no token in the link " + i.d.link)
	}
	return printedCommand{want: http.StatusOK, token: tok, rawURL: "/v2/accounts/me/answers?input=pizza"}
}

// newInstance starts a demo instance on target with the test's shared
// secret file, as main does.
func newInstance(t *testing.T, target redisTarget, secretFile string) instance {
	t.Helper()
	o, closeStore, err := loadOptions(t.Context(), target, secretFile)
	require.NoError(t, err)
	t.Cleanup(closeStore)
	d, err := newDemo(time.Now, o)
	require.NoError(t, err)
	var out bytes.Buffer
	d.printCommands(&out, "http://127.0.0.1:8080")
	cmds := parseCommands(t, out.String())
	var wants []int
	for _, c := range cmds {
		wants = append(wants, c.want)
	}
	require.Equal(t, []int{200, 403, 401, 401, 400, 200, 401}, wants)
	return instance{d: d, printed: out.String(), cmds: cmds}
}

// secretFile writes the demo secret that two instances share.
func secretFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "demo.secret")
	require.NoError(t, os.WriteFile(p, []byte("c2NvcGVkdG9rZW4tZGVtby1zZWNyZXQtZm9yLXRlc3Rz\n"), 0o600))
	return p
}

// status is what the instance answers to c's request with c's token.
func (i instance) status(c printedCommand) int {
	req := httptest.NewRequest(http.MethodGet, c.rawURL, nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	rec := httptest.NewRecorder()
	i.d.handler.ServeHTTP(rec, req)
	return rec.Code
}

// health is the instance's GET /healthz.
func (i instance) health(t *testing.T) (int, redisstore.Health) {
	rec := httptest.NewRecorder()
	i.d.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var h redisstore.Health
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &h))
	return rec.Code, h
}

// revoke records the revocation of c's token in the deployment, as the CLI
// does.
func revoke(t *testing.T, target redisTarget, c printedCommand) {
	t.Helper()
	r, err := scopedtoken.TokenRevocation(c.token)
	require.NoError(t, err)
	client, err := redisstore.NewClient(target.deployment, target.url)
	require.NoError(t, err)
	defer client.Close()
	require.NoError(t, redisstore.Revoke(t.Context(), client, "", r))
}

// shareOneServerOrCluster is the test of two instances on one deployment:
// each accepts the other's tokens, a single-use token passes once across
// both, a revocation reaches both, and the printed revoke command names the
// deployment's flag without the password.
func shareOneServerOrCluster(t *testing.T, target redisTarget, password string) {
	secret := secretFile(t)
	a, b := newInstance(t, target, secret), newInstance(t, target, secret)
	assert.Contains(t, a.printed, "revoke --"+target.deployment.String()+" '"+redisstore.RedactURL(target.url)+"'")
	assert.Contains(t, a.printed, ":xxxxx@")
	assert.NotContains(t, a.printed, password)
	assert.Contains(t, a.printed, "(xxxxx stands for the password; or set ")

	dots := a.cmds[4]
	assert.Equal(t, http.StatusBadRequest, a.status(dots), "the middleware sees the dot segments (a ServeMux in front redirects them when the module says go 1.26)")
	assert.Equal(t, http.StatusOK, b.status(a.search()), "b accepts a's token")
	assert.Equal(t, http.StatusOK, b.status(a.once()))
	assert.Equal(t, http.StatusUnauthorized, a.status(a.once()), "used in b")
	assert.Equal(t, http.StatusUnauthorized, b.status(a.once()))

	revoke(t, target, a.search())
	for name, i := range map[string]instance{"a": a, "b": b} {
		assert.Eventually(t, func() bool { return i.status(a.search()) == http.StatusUnauthorized },
			time.Second, 5*time.Millisecond, "instance %s enforces the revocation", name)
	}
	assert.Equal(t, http.StatusOK, a.status(b.answers()), "a revocation by hash revokes that token only")

	code, h := b.health(t)
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, h.Connected)
	assert.Equal(t, 1, h.Entries)
}

// TestTwoInstancesShareRevocations runs two demo instances with the same
// -redis (a server with a password) and -secret-file.
func TestTwoInstancesShareRevocations(t *testing.T) {
	srv := redistest.Start(t)
	require.NoError(t, srv.Client(t).ConfigSet(t.Context(), "requirepass", "pw-single").Err())
	shareOneServerOrCluster(t, redisTarget{redisstore.Single, "redis://:pw-single@" + srv.Addr(), "-redis"}, "pw-single")
}

// TestTwoInstancesOnCluster does the same on a 3-master Redis Cluster with
// a password, the default prefix and -redis-cluster.
func TestTwoInstancesOnCluster(t *testing.T) {
	cluster := redistest.StartCluster(t, 3)
	const pw = "pw-cluster"
	for i := range 3 {
		require.NoError(t, redistest.NewClient(t, cluster.Master(i).Addr()).ConfigSet(t.Context(), "requirepass", pw).Err())
	}
	url := strings.Replace(cluster.URL(), "redis://", "redis://:"+pw+"@", 1)
	shareOneServerOrCluster(t, redisTarget{redisstore.Cluster, url, "-redis-cluster"}, pw)
}

// TestTwoInstancesOnSentinelThroughFailover runs two instances on Sentinel
// (a primary, a replica, three sentinels), kills the primary and waits for
// the sentinels to promote the replica: single-use tokens used before are
// refused after it by both instances, each asking Redis about the other's
// token; a revocation made before is still enforced and one made after is
// shared. (redistest's failover helpers speak to the servers without a
// password: the Sentinel password= form is covered by redisstore's and the
// CLI's tests.)
func TestTwoInstancesOnSentinelThroughFailover(t *testing.T) {
	s := redistest.StartSentinel(t)
	target := redisTarget{redisstore.Sentinel, s.URL(), "SCOPEDTOKEN_REDIS_SENTINEL_URL"}
	secret := secretFile(t)
	a, b := newInstance(t, target, secret), newInstance(t, target, secret)
	assert.Contains(t, a.printed, "revoke --redis-sentinel '"+s.URL()+"' --token ")
	assert.NotContains(t, a.printed, "xxxxx", "no password to hide")

	// Before: each instance uses its own single-use token, once. Neither
	// shows it to the other, which would then know it as used.
	assert.Equal(t, http.StatusOK, a.status(a.once()))
	assert.Equal(t, http.StatusOK, b.status(b.once()))
	assert.Equal(t, http.StatusUnauthorized, a.status(a.once()))
	revoke(t, target, a.search())
	for name, i := range map[string]instance{"a": a, "b": b} {
		assert.Eventually(t, func() bool { return i.status(a.search()) == http.StatusUnauthorized },
			time.Second, 5*time.Millisecond, "instance %s enforces the revocation", name)
	}
	assert.Equal(t, http.StatusOK, a.status(b.answers()))

	old := s.Primary().Addr()
	start := time.Now()
	s.KillPrimary(t)
	promoted := s.WaitFailover(t, 30*time.Second)
	t.Logf("failover from %s to %s in %v", old, promoted.Addr(), time.Since(start).Round(time.Millisecond))
	used, err := promoted.Client(t).Keys(t.Context(), redisstore.DefaultPrefix+"used:*").Result()
	require.NoError(t, err)
	assert.Len(t, used, 2, "the promoted replica has both single-use records")

	// After: the other instance's used token, which this instance never saw,
	// is refused from the promoted replica's record (while the instance's
	// client finds the new primary, a request may get 503: never 200).
	for _, c := range []struct {
		name string
		i    instance
		tok  printedCommand
	}{{"a's token at b", b, a.once()}, {"b's token at a", a, b.once()}, {"a's token at a", a, a.once()}, {"b's token at b", b, b.once()}} {
		var got []int
		assert.Eventually(t, func() bool {
			code := c.i.status(c.tok)
			got = append(got, code)
			return code == http.StatusUnauthorized
		}, 20*time.Second, 50*time.Millisecond, c.name)
		assert.NotContains(t, got, http.StatusOK, "%s: a used single-use token passed again", c.name)
		t.Logf("%s after the failover: %d requests until 401 (%d answered 503)", c.name, len(got), countOf(got, http.StatusServiceUnavailable))
	}
	assert.Equal(t, http.StatusUnauthorized, b.status(a.search()), "the revocation made before the failover")

	start = time.Now()
	revoke(t, target, b.answers())
	for name, i := range map[string]instance{"a": a, "b": b} {
		assert.Eventually(t, func() bool { return i.status(b.answers()) == http.StatusUnauthorized },
			10*time.Second, 5*time.Millisecond, "instance %s enforces the revocation made after the failover", name)
	}
	t.Logf("revocation after the failover enforced by both instances %v after it was recorded", time.Since(start).Round(time.Millisecond))
	for name, i := range map[string]instance{"a": a, "b": b} {
		assert.Eventually(t, func() bool {
			code, h := i.health(t)
			return code == http.StatusOK && h.Connected && h.Entries == 2
		}, 10*time.Second, 20*time.Millisecond, "instance %s is linked to the new primary and holds both revocations", name)
	}
}

// TestChooseRedis: one -redis* flag, or else one variable, or none; a flag
// wins over the variables.
func TestChooseRedis(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	flags := func(d redisstore.Deployment, u string) map[redisstore.Deployment]string {
		return map[redisstore.Deployment]string{d: u}
	}
	for _, e := range redisEnv {
		got, err := chooseRedis(flags(e.deployment, "redis://f"), env(nil))
		require.NoError(t, err)
		assert.Equal(t, redisTarget{e.deployment, "redis://f", "-" + e.deployment.String()}, got)

		got, err = chooseRedis(nil, env(map[string]string{e.name: "redis://e"}))
		require.NoError(t, err)
		assert.Equal(t, redisTarget{e.deployment, "redis://e", e.name}, got)

		got, err = chooseRedis(flags(redisstore.Cluster, "redis://f"), env(map[string]string{e.name: "redis://e", "SCOPEDTOKEN_REDIS_URL": "redis://e2"}))
		require.NoError(t, err)
		assert.Equal(t, redisTarget{redisstore.Cluster, "redis://f", "-redis-cluster"}, got, "the flag wins")
	}
	got, err := chooseRedis(nil, env(nil))
	require.NoError(t, err)
	assert.Equal(t, redisTarget{}, got, "no Redis")

	_, err = chooseRedis(map[redisstore.Deployment]string{redisstore.Single: "redis://:pw1@a", redisstore.Sentinel: "redis://:pw2@b"}, env(nil))
	require.ErrorContains(t, err, "not -redis and -redis-sentinel")
	assert.NotContains(t, err.Error(), "pw")
	_, err = chooseRedis(nil, env(map[string]string{"SCOPEDTOKEN_REDIS_CLUSTER_URL": "redis://:pw1@a", "SCOPEDTOKEN_REDIS_SENTINEL_URL": "redis://:pw2@b"}))
	require.ErrorContains(t, err, "not SCOPEDTOKEN_REDIS_CLUSTER_URL and SCOPEDTOKEN_REDIS_SENTINEL_URL")
	assert.NotContains(t, err.Error(), "pw")
}

// TestParseConfig reads the flags and the environment as main does; bad
// URLs are refused by loadOptions, naming where they came from and the
// deployment, never the password.
func TestParseConfig(t *testing.T) {
	env := map[string]string{"SCOPEDTOKEN_REDIS_SENTINEL_URL": "redis://:s3cret@127.0.0.1:1"}
	var stderr bytes.Buffer
	c, err := parseConfig([]string{"-addr", "127.0.0.1:0", "-secret-file", "f"}, func(k string) string { return env[k] }, &stderr)
	require.NoError(t, err)
	assert.Equal(t, config{addr: "127.0.0.1:0", secretFile: "f",
		redis: redisTarget{redisstore.Sentinel, "redis://:s3cret@127.0.0.1:1", "SCOPEDTOKEN_REDIS_SENTINEL_URL"}}, c)
	_, _, err = loadOptions(t.Context(), c.redis, "")
	require.ErrorContains(t, err, "SCOPEDTOKEN_REDIS_SENTINEL_URL: not a valid Redis URL for the redis-sentinel deployment (master_name")
	assert.NotContains(t, err.Error(), "s3cret")

	c, err = parseConfig([]string{"-redis-cluster", "redis://:s3cret@127.0.0.1:7000/2"}, func(k string) string { return env[k] }, &stderr)
	require.NoError(t, err)
	assert.Equal(t, redisTarget{redisstore.Cluster, "redis://:s3cret@127.0.0.1:7000/2", "-redis-cluster"}, c.redis)
	_, _, err = loadOptions(t.Context(), c.redis, "")
	require.ErrorContains(t, err, "-redis-cluster: not a valid Redis URL for the redis-cluster deployment (Redis Cluster has database 0 only")
	assert.NotContains(t, err.Error(), "s3cret")

	_, err = parseConfig([]string{"-redis", "redis://a", "-redis-cluster", "redis://b"}, func(string) string { return "" }, &stderr)
	assert.ErrorContains(t, err, "not -redis and -redis-cluster")
	_, err = parseConfig([]string{"-bogus"}, func(string) string { return "" }, &stderr)
	assert.ErrorAs(t, err, new(parseError))

	// Redis that refuses the password: New fails, and says so without it.
	srv := redistest.Start(t)
	require.NoError(t, srv.Client(t).ConfigSet(t.Context(), "requirepass", "right-pw").Err())
	_, _, err = loadOptions(t.Context(), redisTarget{redisstore.Single, "redis://:wrong-pw@" + srv.Addr(), "SCOPEDTOKEN_REDIS_URL"}, "")
	require.ErrorContains(t, err, "SCOPEDTOKEN_REDIS_URL (redis): redisstore: cannot load the revocation state")
	assert.NotContains(t, err.Error(), "wrong-pw")
}

func countOf(codes []int, code int) int {
	n := 0
	for _, c := range codes {
		if c == code {
			n++
		}
	}
	return n
}
