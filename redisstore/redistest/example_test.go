package redistest_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/scopedtoken/scopedtoken/redisstore/redistest"
)

// exampleRedis is the address of the server that TestMain starts for the
// examples.
var exampleRedis string

func TestMain(m *testing.M) { os.Exit(redistest.Main(m, &exampleRedis)) }

// Tests start their own servers with Start (redistest.Start(t).Addr()); the
// examples of a package share the one that Main starts from TestMain. Tests
// that share a server keep apart with UniquePrefix.
func ExampleMain() {
	client := redis.NewClient(&redis.Options{Addr: exampleRedis})
	defer client.Close()
	ctx := context.Background()
	key := redistest.UniquePrefix() + "greeting"
	if err := client.Set(ctx, key, "hello", 0).Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.Get(ctx, key).Val())
	// Output:
	// hello
}
