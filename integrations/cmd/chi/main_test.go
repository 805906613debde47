package main

import (
	"testing"

	"github.com/scopedtoken/scopedtoken/integrations/internal/demotest"
)

func TestRouterInProcess(t *testing.T) {
	kit := demotest.NewKit(t)
	demotest.RunInProcess(t, newRouter(kit), demotest.Cases(t, kit))
}

func TestRouterLoopback(t *testing.T) {
	kit := demotest.NewKit(t)
	demotest.RunLoopback(t, newRouter(kit), demotest.Cases(t, kit))
}
