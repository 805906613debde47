// Command scopedtoken makes keys, mints scoped tokens, verifies them as the
// middleware would and explains them.
//
//	scopedtoken keygen  --alg A --kid K --private-out PRIVATE [--out DIR]
//	scopedtoken mint    --kid K [--secret S | --secret-file F | --key PRIVATE.pem] --aud P ... [flags]
//	scopedtoken mint    --config tokens.json --page /some/page [--keys DIR]
//	scopedtoken verify  --kid K [--secret S | --secret-file F | --key PUBLIC.pem] | --jwks URL --path P [flags] TOKEN
//	scopedtoken inspect TOKEN
//	scopedtoken revoke  (--redis | --redis-cluster | --redis-sentinel) URL (--token T | --jti ID | --business B [--before RFC3339] ...)
//
// TOKEN and T may be the token itself, "Bearer TOKEN", the whole line
// "Authorization: Bearer TOKEN", "jwt=TOKEN" or a link with ?jwt=TOKEN, or
// "-" to read one line of stdin (readTokenArg). What inspect, verify and
// revoke print from a token is escaped so that it cannot act on a terminal
// (terminal.go).
//
// Exit status 0 on success, 1 when a token is refused or minting fails, 2 on
// a usage error. Messages go to stderr, results to stdout. Run
// "scopedtoken COMMAND --help" for each command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Exit statuses (docs/cli.md).
const (
	exitOK      = 0
	exitFailed  = 1 // a token was refused, or minting or key generation failed
	exitUsage   = 2
	programName = "scopedtoken"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
	// readsTokens marks the commands that print what a token says: their
	// output passes through terminalWriter.
	readsTokens bool
}

var commands = []command{
	{"keygen", "generate a signing key and its public JWKS", runKeygen, false},
	{"mint", "mint a token (or the named tokens of a spec file)", runMint, false},
	{"verify", "verify a token as the middleware would", runVerify, true},
	{"inspect", "decode and explain a token, without verifying it", runInspect, true},
	{"revoke", "revoke tokens in the Redis state shared by a fleet", runRevoke, true},
}

// run is the whole program, with its environment passed in, so that tests
// can call it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage())
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, mainUsage())
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		if c.readsTokens {
			stdout, stderr = terminalWriter{stdout}, terminalWriter{stderr}
		}
		err := c.run(args[1:], stdout, stderr)
		var usage usageError
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.As(err, &usage):
			fmt.Fprintf(stderr, "%s %s: %s\nRun '%s %s --help' for usage.\n", programName, c.name, message(usage.err), programName, c.name)
			return exitUsage
		}
		fmt.Fprintf(stderr, "%s %s: %s\n", programName, c.name, message(err))
		return exitFailed
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n%s", programName, args[0], mainUsage())
	return exitUsage
}

// message is err's text without the "scopedtoken: " that the package's
// errors start with (at each level of wrapping): the line already starts with
// "scopedtoken COMMAND: ".
func message(err error) string {
	return strings.ReplaceAll(err.Error(), packagePrefix, "")
}

const packagePrefix = "scopedtoken: "

func mainUsage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s COMMAND [flags]\n\nCommands:\n", programName)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&b, "\nRun '%s COMMAND --help' for a command's flags.\n"+
		"Exit status: 0 success, 1 token refused or minting failed, 2 usage error.\n", programName)
	return b.String()
}

// usageError marks an error in the command line itself: exit status 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// newFlags returns a flag set whose errors and help the caller prints.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(programName+" "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses flags and positional arguments in any order (flag stops
// at the first positional one); everything after "--" is positional. On
// --help it prints the command's help to stdout and returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string, synopsis string, stdout io.Writer) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, synopsis)
				fmt.Fprint(stdout, "\nFlags (one or two dashes):\n")
				fs.SetOutput(stdout)
				fs.PrintDefaults()
				fs.SetOutput(io.Discard)
				return nil, flag.ErrHelp
			}
			return nil, usageError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// listFlag is a flag that may be repeated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// durationFlag defines a duration flag whose error names the unit, where
// flag.Duration says only "parse error" (for --expire-in 300, say).
func durationFlag(fs *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	d := value
	fs.Var((*durationValue)(&d), name, usage)
	return &d
}

type durationValue time.Duration

func (d *durationValue) String() string { return time.Duration(*d).String() }
func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("use a duration such as 5m or 300s")
	}
	*d = durationValue(v)
	return nil
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
