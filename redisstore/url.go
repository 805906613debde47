package redisstore

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Deployment is the shape of a Redis deployment, which decides how its URL
// reads and which client NewClient builds. The zero value is no deployment.
type Deployment int

// The deployments NewClient knows.
const (
	// Single is one server, or a managed service's primary endpoint:
	// redis://[[USER]:PASSWORD@]HOST:PORT[/DB] (redis.ParseURL; rediss://
	// for TLS, unix:// for a socket), a *redis.Client.
	Single Deployment = iota + 1
	// Cluster is Redis Cluster, reached through any of its nodes:
	// redis://[[USER]:PASSWORD@]HOST:PORT?addr=HOST2:PORT2&addr=HOST3:PORT3
	// (redis.ParseClusterURL), a *redis.ClusterClient. The user and password
	// are every node's.
	Cluster
	// Sentinel is a primary with replicas that Sentinel fails over:
	// redis://[[USER]:PASSWORD@]SENTINEL:PORT?master_name=NAME&addr=SENTINEL2:PORT2[&password=P][&username=U]
	// (redis.ParseFailoverURL), a failover *redis.Client that follows the
	// primary. Beware: the user and password before the @ are the
	// sentinels' own (FailoverOptions.SentinelUsername and
	// SentinelPassword); those of the primary and replicas are the
	// password= and username= query parameters.
	Sentinel
)

// String is the deployment's name, which the command line and the demo also
// use as the name of its flag: "redis", "redis-cluster" or "redis-sentinel".
func (d Deployment) String() string {
	switch d {
	case Single:
		return "redis"
	case Cluster:
		return "redis-cluster"
	case Sentinel:
		return "redis-sentinel"
	}
	return fmt.Sprintf("Deployment(%d)", int(d))
}

// urlForm is the form of the deployment's URL, for messages.
func (d Deployment) urlForm() string {
	switch d {
	case Single:
		return "redis://[[USER]:PASSWORD@]HOST:PORT[/DB] (rediss:// for TLS)"
	case Cluster:
		return "redis://[[USER]:PASSWORD@]HOST:PORT?addr=HOST2:PORT2&addr=HOST3:PORT3 (rediss:// for TLS)"
	case Sentinel:
		return "redis://[[USER]:SENTINEL_PASSWORD@]SENTINEL:PORT?master_name=NAME&addr=SENTINEL2:PORT2[&password=PASSWORD] (rediss:// for TLS)"
	}
	return ""
}

// NewClient builds the client for a deployment from its URL, in the forms of
// go-redis (see Single, Cluster and Sentinel), with go-redis's default
// timeouts unless the URL sets them. It does not connect: New or Revoke will.
// The caller closes the client.
//
// It refuses what the store cannot work with: a Sentinel URL without
// master_name, or one that reads from replicas (replica_only,
// route_by_latency, route_randomly, with which go-redis's failover client
// would panic); a cluster URL that reads from replicas (read_only,
// route_by_latency, route_randomly) or names a database other than 0; and a
// read_timeout that a WAIT of DefaultWaitTimeout would outlast. Its errors
// name the deployment and the expected form, never the URL or anything from
// it: go-redis's own parse errors, which may quote parts of the URL, are not
// passed on.
func NewClient(d Deployment, rawURL string) (client redis.UniversalClient, err error) {
	defer func() {
		// go-redis panics on some values it parsed (a pool_size beyond
		// int32, say); its message is not passed on either.
		if recover() != nil {
			client, err = nil, d.invalid("go-redis refused its options")
		}
	}()
	switch d {
	case Single:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, d.invalid(misplaced(d, rawURL))
		}
		if err := checkReadTimeout(d, o.ReadTimeout); err != nil {
			return nil, err
		}
		if o.Network == "tcp" {
			if err := checkAddrs(d, o.Addr); err != nil {
				return nil, err
			}
		}
		return redis.NewClient(o), nil
	case Cluster:
		o, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, d.invalid(misplaced(d, rawURL))
		}
		if o.ReadOnly || o.RouteByLatency || o.RouteRandomly {
			return nil, d.invalid("the store reads and writes on the masters: read_only, route_by_latency and route_randomly are not supported")
		}
		// ParseClusterURL ignores the path; a cluster has database 0 only.
		if u, err := url.Parse(rawURL); err != nil || !(u.Path == "" || u.Path == "/" || u.Path == "/0") {
			return nil, d.invalid("Redis Cluster has database 0 only: leave the path out")
		}
		if err := checkReadTimeout(d, o.ReadTimeout); err != nil {
			return nil, err
		}
		if err := checkAddrs(d, o.Addrs...); err != nil {
			return nil, err
		}
		return redis.NewClusterClient(o), nil
	case Sentinel:
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, d.invalid("")
		}
		if o.MasterName == "" {
			return nil, d.invalid("master_name, the name the sentinels monitor the primary under, is required")
		}
		if o.ReplicaOnly || o.UseDisconnectedReplicas || o.RouteByLatency || o.RouteRandomly {
			return nil, d.invalid("the store reads and writes on the primary: replica_only, use_disconnected_replicas, route_by_latency and route_randomly are not supported")
		}
		if err := checkReadTimeout(d, o.ReadTimeout); err != nil {
			return nil, err
		}
		if err := checkAddrs(d, o.SentinelAddrs...); err != nil {
			return nil, err
		}
		return redis.NewFailoverClient(o), nil
	}
	return nil, fmt.Errorf("redisstore: unknown deployment %d", int(d))
}

// invalid is the error for a URL that d cannot use: fixed text, with the
// expected form and, when known, why.
func (d Deployment) invalid(why string) error {
	msg := "redisstore: not a valid Redis URL for the " + d.String() + " deployment"
	if why != "" {
		msg += " (" + why + ")"
	}
	return errors.New(msg + "; expected " + d.urlForm())
}

// misplaced says which query parameter of rawURL belongs to another
// deployment than d, for a cluster or Sentinel URL given as another one; ""
// when none does. It names parameters, never their values.
func misplaced(d Deployment, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		return "master_name belongs to a " + Sentinel.String() + " URL"
	case d == Single && q.Has("addr"):
		return "addr lists the other nodes of a " + Cluster.String() + " URL, or the other sentinels of a " + Sentinel.String() + " URL"
	}
	return ""
}

// checkAddrs refuses an address that is not HOST:PORT with a port number:
// go-redis takes the addr= parameters almost as they are, and an address
// such as user:password@host would reach its dial errors.
func checkAddrs(d Deployment, addrs ...string) error {
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 || host == "" || strings.ContainsAny(host, "@/?# \t") {
			return d.invalid("every address must be HOST:PORT")
		}
	}
	return nil
}

// checkReadTimeout refuses a read timeout that a WAIT of the store could
// outlast; zero (go-redis's default, 5 s) and negative (none) are fine.
func checkReadTimeout(d Deployment, t time.Duration) error {
	if t > 0 && t <= DefaultWaitTimeout {
		return d.invalid("read_timeout must be longer than the store's WAIT, " + DefaultWaitTimeout.String())
	}
	return nil
}

// RedactURL returns rawURL with the password after the user name, and the
// value of any password or sentinel_password query parameter, replaced by
// "xxxxx", for printing. A URL that does not parse comes back as
// "[unreadable Redis URL]".
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "[unreadable Redis URL]"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	// Parameter by parameter, so that the others keep their order.
	params := strings.Split(u.RawQuery, "&")
	for i, p := range params {
		k, _, hasValue := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); hasValue && (err != nil || isPasswordParam(name)) {
			params[i] = k + "=xxxxx"
		}
	}
	u.RawQuery = strings.Join(params, "&")
	return u.String()
}

func isPasswordParam(name string) bool {
	return strings.Contains(strings.ToLower(name), "password")
}
