package redisstore

import (
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopedtoken/scopedtoken"
	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
)

// TestNewClient builds a client for good and bad URLs of each deployment,
// without connecting: the client type and options for the good ones; for
// the bad ones an error that names the deployment and the expected form and
// carries nothing of the URL.
func TestNewClient(t *testing.T) {
	const pw = "s3cret"
	type want struct {
		addrs    []string // the single server's, the cluster's seeds, or the sentinels' (not checked)
		db       int
		password string // the data nodes' password, as the client's options hold it
		master   string // Sentinel: FailoverOptions.MasterName (not checked: not exposed)
	}
	good := []struct {
		name string
		d    Deployment
		url  string
		want want
	}{
		{"single", Single, "redis://127.0.0.1:6379", want{addrs: []string{"127.0.0.1:6379"}}},
		{"single_password_db", Single, "redis://:" + pw + "@127.0.0.1:6380/3", want{addrs: []string{"127.0.0.1:6380"}, db: 3, password: pw}},
		{"single_user_tls", Single, "rediss://app:" + pw + "@redis.internal:6390?dial_timeout=2s", want{addrs: []string{"redis.internal:6390"}, password: pw}},
		{"single_defaults", Single, "redis://", want{addrs: []string{"localhost:6379"}}},
		{"single_unix", Single, "unix:///run/redis.sock?db=2", want{addrs: []string{"/run/redis.sock"}, db: 2}},
		{"cluster", Cluster, "redis://127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002",
			want{addrs: []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"}}},
		{"cluster_password", Cluster, "redis://:" + pw + "@10.0.0.1:7000?addr=10.0.0.2:7000", want{addrs: []string{"10.0.0.1:7000", "10.0.0.2:7000"}, password: pw}},
		{"cluster_one_seed_db0", Cluster, "redis://10.0.0.1:7000/0", want{addrs: []string{"10.0.0.1:7000"}}},
		{"sentinel", Sentinel, "redis://127.0.0.1:26379?master_name=mymaster&addr=127.0.0.1:26380&addr=127.0.0.1:26381", want{master: "mymaster"}},
		// The userinfo is the sentinels' password; the primary's is password=.
		{"sentinel_sentinel_password", Sentinel, "redis://:" + pw + "@127.0.0.1:26379?master_name=mymaster", want{master: "mymaster"}},
		{"sentinel_primary_password_db", Sentinel, "redis://127.0.0.1:26379/2?master_name=mymaster&password=" + pw, want{master: "mymaster", db: 2, password: pw}},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			client, err := NewClient(c.d, c.url)
			require.NoError(t, err)
			defer client.Close()
			switch c.d {
			case Single:
				cl, ok := client.(*redis.Client)
				require.True(t, ok, "%T", client)
				assert.Equal(t, c.want.addrs[0], cl.Options().Addr)
				assert.Equal(t, c.want.db, cl.Options().DB)
				assert.Equal(t, c.want.password, cl.Options().Password)
				assert.Equal(t, 5*time.Second, cl.Options().ReadTimeout, "go-redis's default read timeout")
			case Cluster:
				cl, ok := client.(*redis.ClusterClient)
				require.True(t, ok, "%T", client)
				assert.Equal(t, c.want.addrs, cl.Options().Addrs)
				assert.Equal(t, c.want.password, cl.Options().Password)
				assert.False(t, cl.Options().ReadOnly)
			case Sentinel:
				// NewFailoverClient returns a *redis.Client whose options are
				// the primary's: the userinfo's password is not among them.
				cl, ok := client.(*redis.Client)
				require.True(t, ok, "%T", client)
				assert.Equal(t, "FailoverClient", cl.Options().Addr, "a failover client")
				assert.Equal(t, c.want.db, cl.Options().DB)
				assert.Equal(t, c.want.password, cl.Options().Password)
			}
			assert.NoError(t, checkClient(client), "the store takes it")
		})
	}

	bad := []struct {
		name string
		d    Deployment
		url  string
		why  string // in the message, besides the deployment and its form
	}{
		{"single_scheme", Single, "http://:" + pw + "@127.0.0.1:6379", ""},
		{"single_bad_url", Single, "redis://:" + pw + "@127.0.0.1:6379/%zz", ""},
		{"single_bad_port", Single, "redis://:" + pw + "@127.0.0.1:port" + pw, ""},
		{"single_db", Single, "redis://:" + pw + "@127.0.0.1:6379/" + pw, ""},
		{"single_unknown_option", Single, "redis://127.0.0.1:6379?" + pw + "=1", ""},
		{"single_option_value", Single, "redis://127.0.0.1:6379?max_retries=" + pw, ""},
		{"single_given_cluster", Single, "redis://:" + pw + "@127.0.0.1:7000?addr=127.0.0.1:7001", "addr lists the other nodes of a redis-cluster URL"},
		{"single_given_sentinel", Single, "redis://:" + pw + "@127.0.0.1:26379?master_name=m&addr=127.0.0.1:26380", "master_name belongs to a redis-sentinel URL"},
		{"single_short_read_timeout", Single, "redis://:" + pw + "@127.0.0.1:6379?read_timeout=100ms", "read_timeout must be longer"},
		{"single_pool_overflow", Single, "redis://:" + pw + "@127.0.0.1:6379?pool_size=99999999999", "go-redis refused its options"},
		{"cluster_scheme", Cluster, "https://:" + pw + "@127.0.0.1:7000?addr=127.0.0.1:7001", ""},
		{"cluster_bad_addr", Cluster, "redis://127.0.0.1:7000?addr=user:" + pw + "@127.0.0.1", "every address must be HOST:PORT"},
		{"cluster_addr_no_port", Cluster, "redis://127.0.0.1:7000?addr=" + pw + ":", ""},
		{"cluster_password_param", Cluster, "redis://127.0.0.1:7000?password=" + pw, ""},
		{"cluster_given_sentinel", Cluster, "redis://:" + pw + "@127.0.0.1:26379?master_name=m", "master_name belongs to a redis-sentinel URL"},
		{"cluster_db", Cluster, "redis://:" + pw + "@127.0.0.1:7000/1?addr=127.0.0.1:7001", "database 0 only"},
		{"cluster_read_only", Cluster, "redis://:" + pw + "@127.0.0.1:7000?read_only=true", "read_only"},
		{"cluster_route_by_latency", Cluster, "redis://127.0.0.1:7000?route_by_latency=1", "route_by_latency"},
		{"cluster_bad_bool", Cluster, "redis://127.0.0.1:7000?read_only=" + pw, ""},
		{"cluster_short_read_timeout", Cluster, "redis://127.0.0.1:7000?read_timeout=250ms", "read_timeout must be longer"},
		{"sentinel_no_master_name", Sentinel, "redis://:" + pw + "@127.0.0.1:26379?addr=127.0.0.1:26380", "master_name"},
		{"sentinel_empty_master_name", Sentinel, "redis://127.0.0.1:26379?master_name=&password=" + pw, "master_name"},
		{"sentinel_scheme", Sentinel, "unix://:" + pw + "@/run/sentinel.sock?master_name=m", ""},
		{"sentinel_bad_addr", Sentinel, "redis://127.0.0.1:26379?master_name=m&addr=" + pw, ""},
		{"sentinel_addr_userinfo", Sentinel, "redis://127.0.0.1:26379?master_name=m&addr=" + pw + "@127.0.0.1:26380", "every address must be HOST:PORT"},
		{"sentinel_bad_db", Sentinel, "redis://127.0.0.1:26379/" + pw + "?master_name=m", ""},
		{"sentinel_unknown_option", Sentinel, "redis://127.0.0.1:26379?master_name=m&sentinel_password=" + pw, ""},
		{"sentinel_replica_only", Sentinel, "redis://127.0.0.1:26379?master_name=m&replica_only=true&password=" + pw, "replica_only"},
		// NewFailoverClient panics on these two.
		{"sentinel_route_by_latency", Sentinel, "redis://127.0.0.1:26379?master_name=m&route_by_latency=true&password=" + pw, "route_by_latency"},
		{"sentinel_route_randomly", Sentinel, "redis://127.0.0.1:26379?master_name=m&route_randomly=1", "route_randomly"},
		{"sentinel_short_read_timeout", Sentinel, "redis://127.0.0.1:26379?master_name=m&read_timeout=1&read_timeout=200ms", "read_timeout must be longer"},
		{"unknown_deployment", Deployment(0), "redis://:" + pw + "@127.0.0.1:6379", "unknown deployment"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			client, err := NewClient(c.d, c.url)
			require.Error(t, err)
			assert.Nil(t, client)
			msg := err.Error()
			assert.NotContains(t, msg, pw)
			assert.NotContains(t, msg, c.url)
			if c.d != Deployment(0) {
				assert.Contains(t, msg, "not a valid Redis URL for the "+c.d.String()+" deployment")
				assert.Contains(t, msg, "expected "+c.d.urlForm())
			}
			assert.Contains(t, msg, c.why)
		})
	}
}

func TestDeploymentString(t *testing.T) {
	assert.Equal(t, "redis", Single.String())
	assert.Equal(t, "redis-cluster", Cluster.String())
	assert.Equal(t, "redis-sentinel", Sentinel.String())
	assert.Equal(t, "Deployment(0)", Deployment(0).String())
}

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"redis://127.0.0.1:6379":                                                  "redis://127.0.0.1:6379",
		"redis://:s3cret@127.0.0.1:6379/2":                                        "redis://:xxxxx@127.0.0.1:6379/2",
		"rediss://app:s3cret@h:6390":                                              "rediss://app:xxxxx@h:6390",
		"redis://app@h:6390":                                                      "redis://app@h:6390",
		"redis://:s3cret@h:7000?addr=h2:7000&addr=h3:7000":                        "redis://:xxxxx@h:7000?addr=h2:7000&addr=h3:7000",
		"redis://:s3cret@s1:26379?master_name=m&password=s3cret&addr=s2:26379":    "redis://:xxxxx@s1:26379?master_name=m&password=xxxxx&addr=s2:26379",
		"redis://s1:26379?master_name=m&Password=s3cret&sentinel_password=s3cret": "redis://s1:26379?master_name=m&Password=xxxxx&sentinel_password=xxxxx",
		"redis://s1:26379?master_name=m&pass%77ord=s3cret":                        "redis://s1:26379?master_name=m&pass%77ord=xxxxx",
		"redis://s1:26379?%zz=s3cret":                                             "redis://s1:26379?%zz=xxxxx",
		"redis://:s3cret@h:6379/%zz":                                              "[unreadable Redis URL]",
	}
	for in, want := range cases {
		got := RedactURL(in)
		assert.Equal(t, want, got, in)
		assert.NotContains(t, got, "s3cret")
	}
}

// TestNewClientDeployments connects through NewClient's client of each kind
// to a real deployment: a Store on each, with the default prefix, records
// and loads a revocation. On Sentinel with passwords on the primary and the
// replica only, password= reaches them while a password in the userinfo
// goes to the sentinels, which have none, and fails.
func TestNewClientDeployments(t *testing.T) {
	quiet := Options{Logger: slog.New(slog.DiscardHandler)}
	check := func(t *testing.T, d Deployment, url string) {
		t.Helper()
		client, err := NewClient(d, url)
		require.NoError(t, err)
		defer client.Close()
		r := scopedtoken.Revocation{Kind: scopedtoken.RevokeID, Value: "url-" + d.String()}
		require.NoError(t, Revoke(t.Context(), client, "", r))
		store, err := New(t.Context(), client, quiet)
		require.NoError(t, err)
		defer store.Close()
		assert.True(t, store.Revoked(&scopedtoken.RevocationCheck{ID: r.Value}))
	}
	t.Run("single", func(t *testing.T) {
		t.Parallel()
		check(t, Single, "redis://"+redistest.Start(t).Addr())
	})
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		check(t, Cluster, redistest.StartCluster(t, 3).URL())
	})
	t.Run("sentinel", func(t *testing.T) {
		t.Parallel()
		s := redistest.StartSentinel(t)
		const pw = "primary-pw"
		for _, sen := range s.Sentinels() {
			require.NoError(t, redistest.NewClient(t, sen.Addr()).Do(t.Context(), "SENTINEL", "SET", s.MasterName(), "auth-pass", pw).Err())
		}
		for _, srv := range []*redistest.Server{s.Primary(), s.Replica()} {
			require.NoError(t, srv.Client(t).ConfigSet(t.Context(), "requirepass", pw).Err())
		}
		check(t, Sentinel, s.URL()+"&password="+pw)

		client, err := NewClient(Sentinel, "redis://:"+pw+"@"+s.URL()[len("redis://"):])
		require.NoError(t, err)
		defer client.Close()
		err = client.Ping(t.Context()).Err()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "NOAUTH", "the userinfo's password is the sentinels', not the primary's")
	})
}
