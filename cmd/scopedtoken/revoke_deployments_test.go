package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
)

const (
	envSingle   = "SCOPEDTOKEN_REDIS_URL"
	envCluster  = "SCOPEDTOKEN_REDIS_CLUSTER_URL"
	envSentinel = "SCOPEDTOKEN_REDIS_SENTINEL_URL"
)

// clearRedisEnv unsets the three variables for the test.
func clearRedisEnv(t *testing.T) {
	for _, name := range []string{envSingle, envCluster, envSentinel} {
		t.Setenv(name, "")
	}
}

// TestRevokeChoosesDeployment: exactly one deployment, from the flags, or
// else from the environment; bad URLs are refused with exit status 2, a
// message that names where the URL came from and its deployment, and never
// the password. Nothing here reaches a Redis.
func TestRevokeChoosesDeployment(t *testing.T) {
	const pw = "s3cret"
	cases := []struct {
		name string
		env  map[string]string
		args []string
		msg  []string
	}{
		{"none", nil, nil, []string{"--redis, --redis-cluster or --redis-sentinel (or SCOPEDTOKEN_REDIS_URL"}},
		{"two_flags", nil, []string{"--redis", "redis://:" + pw + "@127.0.0.1:1", "--redis-sentinel", "redis://127.0.0.1:1?master_name=m"},
			[]string{"not --redis and --redis-sentinel"}},
		{"three_flags", nil, []string{"--redis", "redis://127.0.0.1:1", "--redis-cluster", "redis://127.0.0.1:1", "--redis-sentinel", "redis://127.0.0.1:1?master_name=m"},
			[]string{"not --redis and --redis-cluster and --redis-sentinel"}},
		{"two_env", map[string]string{envSingle: "redis://:" + pw + "@127.0.0.1:1", envCluster: "redis://:" + pw + "@127.0.0.1:1"}, nil,
			[]string{envSingle + " and " + envCluster + " are all set"}},
		// The flag wins: the (valid) variable is not looked at, the flag's
		// URL is refused as a Sentinel URL.
		{"flag_wins", map[string]string{envSingle: "redis://127.0.0.1:1"}, []string{"--redis-sentinel", "redis://:" + pw + "@127.0.0.1:1"},
			[]string{"--redis-sentinel: not a valid Redis URL for the redis-sentinel deployment (master_name"}},
		{"flag_wins_over_two_env", map[string]string{envSingle: "redis://127.0.0.1:1", envSentinel: "redis://:" + pw + "@127.0.0.1:1"},
			[]string{"--redis-cluster", "redis://:" + pw + "@127.0.0.1:7000/3"}, []string{"--redis-cluster: not a valid Redis URL for the redis-cluster deployment (Redis Cluster has database 0 only"}},
		{"bad_single_flag", nil, []string{"--redis", "redis://:" + pw + "@127.0.0.1:1?master_name=m"},
			[]string{"--redis: not a valid Redis URL for the redis deployment (master_name belongs to a redis-sentinel URL)", "expected redis://"}},
		{"bad_single_env", map[string]string{envSingle: "redis://:" + pw + "@127.0.0.1:port"}, nil,
			[]string{envSingle + ": not a valid Redis URL for the redis deployment"}},
		{"bad_cluster_flag", nil, []string{"--redis-cluster", "redis://:" + pw + "@127.0.0.1:7000?addr=" + pw},
			[]string{"--redis-cluster: not a valid Redis URL for the redis-cluster deployment", "?addr=HOST2:PORT2&addr=HOST3:PORT3"}},
		{"bad_cluster_env", map[string]string{envCluster: "redis://127.0.0.1:7000?password=" + pw}, nil,
			[]string{envCluster + ": not a valid Redis URL for the redis-cluster deployment"}},
		{"bad_sentinel_flag", nil, []string{"--redis-sentinel", "redis://:" + pw + "@127.0.0.1:26379?master_name=m&route_randomly=true"},
			[]string{"--redis-sentinel: not a valid Redis URL for the redis-sentinel deployment", "route_randomly"}},
		{"bad_sentinel_env", map[string]string{envSentinel: "redis://127.0.0.1:26379?addr=127.0.0.1:26380&password=" + pw}, nil,
			[]string{envSentinel + ": not a valid Redis URL for the redis-sentinel deployment (master_name", "master_name=NAME"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clearRedisEnv(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			r := cli(append(append([]string{"revoke"}, c.args...), "--jti", "a")...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			for _, m := range c.msg {
				assert.Contains(t, r.stderr, m)
			}
			assert.NotContains(t, r.stderr+r.stdout, pw)
		})
	}
}

// TestRedactURL: every password of the three URL forms, as written or
// decoded, leaves a message.
func TestRedactURL(t *testing.T) {
	cases := []struct{ url, secret string }{
		{"redis://:s3cret@127.0.0.1:6379", "s3cret"},
		{"redis://user:p%40ss%2Fw0rd@127.0.0.1:6379/2", "p@ss/w0rd"},
		{"redis://:s3cret@127.0.0.1:7000?addr=127.0.0.1:7001", "s3cret"},
		{"redis://:sentinel-pw@127.0.0.1:26379?master_name=m&password=primary-pw", "sentinel-pw"},
		{"redis://:sentinel-pw@127.0.0.1:26379?master_name=m&password=primary-pw", "primary-pw"},
		{"redis://127.0.0.1:26379?master_name=m&password=a%26b%3Dc", "a&b=c"},
	}
	for _, c := range cases {
		msg := "dial " + c.url + " failed; auth " + c.secret + " refused; " + neturlEscape(c.secret)
		got := redactURL(msg, c.url)
		assert.NotContains(t, got, c.secret, c.url)
		assert.NotContains(t, got, neturlEscape(c.secret), c.url)
		assert.Contains(t, got, "[redis URL]")
	}
	assert.Equal(t, "no secret here: 127.0.0.1:6379", redactURL("no secret here: 127.0.0.1:6379", "redis://127.0.0.1:6379"))
}

func neturlEscape(s string) string {
	return strings.NewReplacer("@", "%40", "/", "%2F", "&", "%26", "=", "%3D").Replace(s)
}

// revokeWays revokes four entries through the CLI, by the flag and by the
// environment variable of one deployment, with the default prefix, and checks
// that a Store on the same deployment enforces each.
func revokeWays(t *testing.T, flag, env, url string, store *redisstore.Store) {
	t.Helper()
	past := time.Now().Add(-time.Minute)
	ways := []struct {
		args   []string
		viaEnv bool
		check  scopedtoken.RevocationCheck
	}{
		{[]string{"--jti", "jti-" + flag}, false, scopedtoken.RevocationCheck{ID: "jti-" + flag}},
		{[]string{"--subject", "sub-" + flag}, true, scopedtoken.RevocationCheck{Subject: "sub-" + flag, IssuedAt: past}},
		{[]string{"--business", "biz-" + flag}, false, scopedtoken.RevocationCheck{Businesses: []string{"biz-" + flag}, IssuedAt: past}},
		{[]string{"--kid", "kid-" + flag}, true, scopedtoken.RevocationCheck{KeyID: "kid-" + flag, IssuedAt: past}},
	}
	for _, w := range ways {
		assert.False(t, store.Revoked(&w.check), "%v before", w.args)
		clearRedisEnv(t)
		args := append([]string{"revoke"}, w.args...)
		if w.viaEnv {
			t.Setenv(env, url)
		} else {
			t.Setenv(envSingle, "redis://127.0.0.1:1") // the flag wins
			args = append(args, "--"+flag, url)
		}
		start := time.Now()
		r := cli(args...)
		require.Equal(t, exitOK, r.code, "%v: %s", w.args, r.stderr)
		t.Logf("revoke %v (%s) took %v", w.args, map[bool]string{true: env, false: "--" + flag}[w.viaEnv], time.Since(start).Round(time.Millisecond))
		assert.Contains(t, r.stdout, "revoked ")
		assert.Eventually(t, func() bool { return store.Revoked(&w.check) }, 2*time.Second, 5*time.Millisecond,
			"the store enforces %v", w.args)
	}
}

// TestRevokeOnCluster revokes through a 3-master Redis Cluster with a
// password, by --redis-cluster and by SCOPEDTOKEN_REDIS_CLUSTER_URL, with the
// default prefix (whose keys once spread over slots: CROSSSLOT); a store
// on the cluster enforces each. A wrong password is refused by Redis and
// never printed.
func TestRevokeOnCluster(t *testing.T) {
	cluster := redistest.StartCluster(t, 3)
	const pw = "cluster-pw"
	for i := range 3 {
		require.NoError(t, redistest.NewClient(t, cluster.Master(i).Addr()).ConfigSet(t.Context(), "requirepass", pw).Err())
	}
	url := strings.Replace(cluster.URL(), "redis://", "redis://:"+pw+"@", 1)
	client, err := redisstore.NewClient(redisstore.Cluster, url)
	require.NoError(t, err)
	require.IsType(t, &redis.ClusterClient{}, client)
	t.Cleanup(func() { client.Close() })
	store, err := redisstore.New(t.Context(), client, redisstore.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })

	revokeWays(t, "redis-cluster", envCluster, url, store)
	assert.Equal(t, 4, store.Health().Entries)

	clearRedisEnv(t)
	wrong := strings.Replace(cluster.URL(), "redis://", "redis://:wrong-pw-1@", 1)
	r := cli("revoke", "--redis-cluster", wrong, "--jti", "never")
	assert.Equal(t, exitFailed, r.code, r.stderr)
	assert.Contains(t, r.stderr, "cannot record the revocation through --redis-cluster (redis-cluster)")
	assert.NotContains(t, r.stderr, "wrong-pw-1")
	assert.NotContains(t, r.stderr, pw)
}

// TestRevokeOnSentinel revokes through Sentinel (a primary, a replica, 3
// sentinels) whose primary and replica require a password (password= in the
// URL), by --redis-sentinel and by SCOPEDTOKEN_REDIS_SENTINEL_URL; a store on
// the same deployment enforces each, and the replica has them. A wrong
// password is refused by Redis and never printed.
func TestRevokeOnSentinel(t *testing.T) {
	s := redistest.StartSentinel(t)
	const pw = "primary-pw"
	for _, sen := range s.Sentinels() {
		require.NoError(t, redistest.NewClient(t, sen.Addr()).Do(t.Context(), "SENTINEL", "SET", s.MasterName(), "auth-pass", pw).Err())
	}
	for _, srv := range []*redistest.Server{s.Primary(), s.Replica()} {
		require.NoError(t, srv.Client(t).ConfigSet(t.Context(), "requirepass", pw).Err())
	}
	url := s.URL() + "&password=" + pw
	client, err := redisstore.NewClient(redisstore.Sentinel, url)
	require.NoError(t, err)
	require.IsType(t, &redis.Client{}, client)
	t.Cleanup(func() { client.Close() })
	store, err := redisstore.New(t.Context(), client, redisstore.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })

	revokeWays(t, "redis-sentinel", envSentinel, url, store)
	assert.Equal(t, 4, store.Health().Entries)
	replica := redis.NewClient(&redis.Options{Addr: s.Replica().Addr(), Password: pw})
	defer replica.Close()
	n, err := replica.ZCard(t.Context(), "{scopedtoken:}cutoffs").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(3), n, "the replica has the cutoffs")

	clearRedisEnv(t)
	t.Setenv(envSentinel, s.URL()+"&password=wrong-pw-2")
	r := cli("revoke", "--jti", "never")
	assert.Equal(t, exitFailed, r.code, r.stderr)
	assert.Contains(t, r.stderr, "cannot record the revocation through "+envSentinel+" (redis-sentinel)")
	assert.NotContains(t, r.stderr, "wrong-pw-2")
	assert.NotContains(t, r.stderr, pw)
}

// TestRevokeWrongPassword: a password that Redis refuses fails the command
// (exit 1) without printing it; nothing is recorded.
func TestRevokeWrongPassword(t *testing.T) {
	clearRedisEnv(t)
	srv := redistest.Start(t)
	require.NoError(t, srv.Client(t).ConfigSet(t.Context(), "requirepass", "right-pw").Err())
	r := cli("revoke", "--redis", "redis://:wrong-pw-3@"+srv.Addr(), "--jti", "never")
	assert.Equal(t, exitFailed, r.code, r.stdout)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "cannot record the revocation through --redis (redis): Redis is unreachable or refused it: WRONGPASS")
	assert.NotContains(t, r.stderr, "wrong-pw-3")
	ok := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "right-pw"})
	defer ok.Close()
	n, err := ok.Exists(t.Context(), "{scopedtoken:}revoked").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "nothing recorded")

	r = cli("revoke", "--redis", "redis://:right-pw@"+srv.Addr(), "--jti", "now")
	assert.Equal(t, exitOK, r.code, r.stderr)
}
