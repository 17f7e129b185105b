// What a command declares about its command line, and the types of the values its `run`
// receives, inferred from that declaration. The parser and the help both read it.

interface FlagBase {
  /** One line for the help; the default, the choices and "repeatable" are added to it. */
  description: string
  /** One letter: `-y` for `--yes`. */
  short?: string
  /** Other long names of the same flag: `--exclude` for `--skip`. Not shown in the help. */
  aliases?: readonly string[]
}

export interface BooleanFlag extends FlagBase {
  type: 'boolean'
}

interface ValueFlag extends FlagBase {
  /** The value's name in the help: `--to <url>`. */
  placeholder?: string
  /** Missing, it is a usage error. */
  required?: boolean
}

export interface StringFlag extends ValueFlag {
  type: 'string'
  default?: string
  /** The only values accepted; the run receives their union type. */
  choices?: readonly string[]
  /** Given any number of times; the run receives every value, in order. */
  multiple?: boolean
}

export interface NumberFlag extends ValueFlag {
  type: 'number'
  default?: number
  integer?: boolean
  min?: number
  max?: number
}

/** `90s`, `30m`, `2h`, `1500ms` or seconds; the run receives milliseconds. */
export interface DurationFlag extends ValueFlag {
  type: 'duration'
  /** As a person writes it (`'30s'`), which is also how the help shows it. */
  default?: string
  /** As written: `'1s'`. */
  min?: string
}

export type FlagSpec = BooleanFlag | StringFlag | NumberFlag | DurationFlag
/** A command's flags by name: `targetDb` is `--target-db` on the command line. */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>

export interface ArgSpec {
  /** The name in the help (`<id|latest>`); the key when left out. */
  placeholder?: string
  description?: string
  required?: boolean
  /** What to do when a required argument is missing (default: the command's first example). */
  missingHint?: string
  /** The last argument only: every remaining positional argument. */
  variadic?: boolean
}
/** A command's positional arguments, in order. */
export type ArgSpecs = Readonly<Record<string, ArgSpec>>

/** What a parsed flag can be at run time, whatever the declaration. */
export type AnyFlagValue = boolean | string | number | string[] | undefined

type Scalar<F> = F extends { type: 'number' | 'duration' }
  ? number
  : F extends { choices: readonly (infer C extends string)[] }
    ? C
    : string

type FlagValue<F> = F extends { type: 'boolean' }
  ? boolean
  : F extends { multiple: true }
    ? Scalar<F>[]
    : F extends { default: string | number } | { required: true }
      ? Scalar<F>
      : Scalar<F> | undefined

type ArgValue<A> = A extends { variadic: true }
  ? string[]
  : A extends { required: true }
    ? string
    : string | undefined

// A declaration only known as `FlagSpecs` (the runner's view of any command) has values of
// every kind; a literal one has exactly its own.
export type FlagValues<F extends FlagSpecs> = string extends keyof F
  ? Record<string, AnyFlagValue>
  : { -readonly [K in keyof F]: FlagValue<F[K]> }

export type ArgValues<A extends ArgSpecs> = string extends keyof A
  ? Record<string, string | string[] | undefined>
  : { -readonly [K in keyof A]: ArgValue<A[K]> }

/** What a command's `run` receives: the parsed, typed command line. */
export interface CommandInput<F extends FlagSpecs = FlagSpecs, A extends ArgSpecs = ArgSpecs> {
  flags: FlagValues<F>
  args: ArgValues<A>
  /** The `--<name>` switches accepted beyond the flags (see `otherFlags`), without `--`. */
  otherFlags: string[]
}
