// Writes cobra's completion scripts for a program named kubectl-execsession,
// whose completions come from `kubectl-execsession __complete ...`.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{Use: "kubectl-execsession"}
	root.AddCommand(&cobra.Command{Use: "x", Run: func(*cobra.Command, []string) {}})
	out := map[string]string{}
	var b bytes.Buffer
	must(root.GenBashCompletionV2(&b, true))
	out["bash"] = b.String()
	b.Reset()
	must(root.GenZshCompletion(&b))
	out["zsh"] = b.String()
	b.Reset()
	must(root.GenFishCompletion(&b, true))
	out["fish"] = b.String()
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	must(enc.Encode(out))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
