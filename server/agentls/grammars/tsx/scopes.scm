; inherits: typescript
; TSX scopes: TypeScript's.
