package jid_test

import (
	"errors"
	"fmt"

	"github.com/tern-im/tern/protocol/jid"
)

func ExampleParse() {
	j, err := jid.Parse("Juliet@Example.COM/Balcony")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(j)
	fmt.Println(j.Local(), j.Domain(), j.Resource())
	fmt.Println(j.Bare())

	_, err = jid.Parse("juliet capulet@example.com")
	fmt.Println(err)
	fmt.Println(errors.Is(err, jid.ErrInvalidLocal))
	// Output:
	// juliet@example.com/Balcony
	// juliet example.com Balcony
	// juliet@example.com
	// jid "juliet capulet@example.com": invalid localpart: character ' ' (U+0020) is not allowed
	// true
}

func ExampleJID_WithResource() {
	bare := jid.MustParse("romeo@xn--bcher-kva.example")
	full, err := bare.WithResource("orchard")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(full, full.IsBare(), full.Bare() == bare)
	// Output:
	// romeo@bücher.example/orchard false true
}
