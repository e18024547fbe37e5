// The docker reference grammar, as distribution/reference (reference.go, regexp.go) defines it.
// Each expression is anchored and matched against one already-split piece, so none can backtrack
// across the whole input.

/** reference.NameTotalLengthMax: the full normalised name, registry included. */
export const NAME_MAX_LENGTH = 255;
/** Longest input we look at: a maximal name, tag and sha256 digest fit well inside this. */
export const INPUT_MAX_LENGTH = 512;

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';

export const HOST_RE = new RegExp(`^(?:${domainName}|${ipv6})(?::([0-9]+))?$`);
export const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
export const TAG_RE = /^[\w][\w.-]{0,127}$/;
export const DIGEST_ALGORITHM_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*$/;
export const SHA256_HEX_RE = /^[a-f0-9]{64}$/;
/** A bare 64-hex string is refused as a name: it is an image ID, not a repository. */
export const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
