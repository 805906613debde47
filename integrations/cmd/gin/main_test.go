package main

import (
	"os"
	"testing"

	"github.com/gin-gonic/gin"

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

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}
