package emit

import (
	"github.com/dave/jennifer/jen"

	"github.com/smbvfs/smbvfs/gen/spec"
)

func (g *gen) commands(jf *jen.File, f *spec.File) {}
