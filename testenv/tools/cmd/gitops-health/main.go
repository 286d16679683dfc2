// gitops-health reports what GitOps tools make of CloudDbJob objects, computed by the
// tools' own code rather than by a reading of it:
//
//   - kstatus: sigs.k8s.io/cli-utils/pkg/kstatus/status.Compute, the library kstatus-based
//     pipelines (kpt, kapply) use, and Flux's fork of it (github.com/fluxcd/cli-utils), which
//     Flux's health checks and Helm 4's --wait use;
//   - Argo CD: the resource health Lua script, run under github.com/yuin/gopher-lua (the Lua
//     VM Argo CD embeds) the way Argo CD runs it: the object in the global `obj`, the script's
//     returned table read for `status` and `message`.
//
// Usage: gitops-health HEALTH.lua < objects.json (a Kubernetes List or a single object).
// Prints one JSON line per object: {"name", "kstatus", "kstatusMessage", "flux",
// "fluxMessage", "argo", "argoMessage"}.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	fluxstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Name           string `json:"name"`
	KStatus        string `json:"kstatus"`
	KStatusMessage string `json:"kstatusMessage"`
	Flux           string `json:"flux"`
	FluxMessage    string `json:"fluxMessage"`
	Argo           string `json:"argo"`
	ArgoMessage    string `json:"argoMessage"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gitops-health HEALTH.lua < objects.json")
		os.Exit(2)
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	// Integers stay int64, as the apiserver's own decoding keeps them (kstatus reads
	// metadata.generation as one).
	var doc map[string]interface{}
	if err := utiljson.Unmarshal(input, &doc); err != nil {
		fail(err)
	}
	objects := []map[string]interface{}{doc}
	if items, ok := doc["items"].([]interface{}); ok {
		objects = nil
		for _, item := range items {
			if obj, ok := item.(map[string]interface{}); ok {
				objects = append(objects, obj)
			}
		}
	}
	out := json.NewEncoder(os.Stdout)
	for _, obj := range objects {
		u := &unstructured.Unstructured{Object: obj}
		r := result{Name: u.GetName()}
		computed, err := status.Compute(u)
		if err != nil {
			fail(fmt.Errorf("kstatus of %s: %w", u.GetName(), err))
		}
		r.KStatus = computed.Status.String()
		r.KStatusMessage = computed.Message
		flux, err := fluxstatus.Compute(u)
		if err != nil {
			fail(fmt.Errorf("flux kstatus of %s: %w", u.GetName(), err))
		}
		r.Flux = flux.Status.String()
		r.FluxMessage = flux.Message
		r.Argo, r.ArgoMessage, err = argoHealth(string(script), obj)
		if err != nil {
			fail(fmt.Errorf("argo health of %s: %w", u.GetName(), err))
		}
		if err := out.Encode(r); err != nil {
			fail(err)
		}
	}
}

// argoHealth runs a health script as Argo CD does (util/lua in argo-cd): `obj` is the
// object converted to Lua tables, and the script returns a table with status and message.
func argoHealth(script string, obj map[string]interface{}) (string, string, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: false})
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	if err := L.DoString(script); err != nil {
		return "", "", err
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", fmt.Errorf("the script returned %s, not a table", L.Get(-1).Type())
	}
	return lua.LVAsString(ret.RawGetString("status")), lua.LVAsString(ret.RawGetString("message")), nil
}

func toLua(L *lua.LState, v interface{}) lua.LValue {
	switch t := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(t)
	case float64:
		return lua.LNumber(t)
	case int64:
		return lua.LNumber(t)
	case string:
		return lua.LString(t)
	case []interface{}:
		table := L.NewTable()
		for _, item := range t {
			table.Append(toLua(L, item))
		}
		return table
	case map[string]interface{}:
		table := L.NewTable()
		for k, item := range t {
			table.RawSetString(k, toLua(L, item))
		}
		return table
	default:
		return lua.LString(fmt.Sprint(t))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gitops-health:", err)
	os.Exit(1)
}
