import { ReferenceError } from './errors.js';
import {
  DIGEST_ALGORITHM_RE,
  IDENTIFIER_RE,
  INPUT_MAX_LENGTH,
  NAME_MAX_LENGTH,
  PATH_COMPONENT_RE,
  SHA256_HEX_RE,
  TAG_RE,
} from './grammar.js';
import { canonicalRegistry, DEFAULT_REGISTRY } from './host.js';

const OFFICIAL_REPOSITORY_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';

/** A parsed image reference, in both its normalised form and the form the user wrote. */
export interface ImageReference {
  /** Exactly what was parsed. */
  readonly written: string;
  /** The name as the user wrote it, without tag or digest: `alpine`, `localhost:5000/app`. */
  readonly writtenName: string;
  /**
   * Canonical registry host (with its port unless 443): `docker.io`, `host:5000`, `[::1]:5000`.
   * Every spelling of one registry (case, `:443`, Docker Hub's other names) gives the same.
   */
  readonly registry: string;
  /** Normalised path inside the registry: `library/alpine`. */
  readonly repository: string;
  /**
   * Normalised full name, which is also the Notary GUN: `docker.io/library/alpine`. docker uses
   * its own normalised name as the GUN, which keeps a host's case and `:443`; trustgate looks up
   * the canonical name, the one publishers sign (docs/policy.md "Matching").
   */
  readonly name: string;
  /** The tag as written, if any. Use {@link effectiveTag} for the tag that is looked up. */
  readonly tag: string | undefined;
  /** `sha256:<64 hex>`, if the reference carried a digest. */
  readonly digest: string | undefined;
}

/**
 * Parses and normalises a docker image reference as distribution/reference's
 * ParseNormalizedNamed does, and refuses every digest algorithm but sha256.
 * @throws ReferenceError with a reason a person can act on.
 */
export function parseReference(input: string): ImageReference {
  if (typeof input !== 'string' || input.length === 0) throw new ReferenceError(String(input), 'it is empty');
  if (input.length > INPUT_MAX_LENGTH) {
    throw new ReferenceError(input, `it is longer than ${INPUT_MAX_LENGTH} characters`);
  }
  const [nameAndTag, digest] = splitDigest(input);
  const [writtenName, tag] = splitTag(input, nameAndTag);
  const { registry, repository } = splitRegistry(input, writtenName);
  const name = `${registry}/${repository}`;
  if (name.length > NAME_MAX_LENGTH) {
    throw new ReferenceError(input, `the repository name is longer than ${NAME_MAX_LENGTH} characters`);
  }
  return { written: input, writtenName, registry, repository, name, tag, digest };
}

function splitDigest(input: string): [string, string | undefined] {
  const at = input.indexOf('@');
  if (at === -1) return [input, undefined];
  const digest = input.slice(at + 1);
  const colon = digest.indexOf(':');
  const algorithm = colon === -1 ? '' : digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (colon === -1 || !DIGEST_ALGORITHM_RE.test(algorithm)) {
    throw new ReferenceError(input, `"${digest}" is not a digest (expected sha256:<64 hex characters>)`);
  }
  if (algorithm !== 'sha256') {
    throw new ReferenceError(input, `digest algorithm "${algorithm}" is not supported; use a sha256 digest`);
  }
  if (!SHA256_HEX_RE.test(hex)) {
    throw new ReferenceError(input, 'a sha256 digest must be exactly 64 lowercase hexadecimal characters');
  }
  return [input.slice(0, at), digest];
}

function splitTag(input: string, nameAndTag: string): [string, string | undefined] {
  // A colon after the last slash starts the tag; before it, it belongs to a registry port.
  const colon = nameAndTag.lastIndexOf(':');
  if (colon === -1 || colon < nameAndTag.lastIndexOf('/')) return [nameAndTag, undefined];
  const tag = nameAndTag.slice(colon + 1);
  if (!TAG_RE.test(tag)) {
    throw new ReferenceError(
      input,
      `tag "${tag}" is invalid (1-128 characters: letters, digits, "_", "." and "-", not starting with "." or "-")`,
    );
  }
  return [nameAndTag.slice(0, colon), tag];
}

function splitRegistry(input: string, writtenName: string): { registry: string; repository: string } {
  if (writtenName.length === 0) throw new ReferenceError(input, 'the repository name is empty');
  if (IDENTIFIER_RE.test(writtenName)) {
    throw new ReferenceError(input, 'a 64-character hexadecimal string is an image ID, not a repository name');
  }
  // distribution/reference splitDockerDomain: the first component is a registry host when it
  // contains "." or ":", is "localhost", or has uppercase letters (path components cannot).
  const slash = writtenName.indexOf('/');
  const first = slash === -1 ? '' : writtenName.slice(0, slash);
  const isHost =
    slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first);
  let registry = DEFAULT_REGISTRY;
  let repository = isHost ? writtenName.slice(slash + 1) : writtenName;
  if (isHost) {
    const canonical = canonicalRegistry(first);
    if ('problem' in canonical) throw new ReferenceError(input, canonical.problem);
    registry = canonical.host;
  }
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = OFFICIAL_REPOSITORY_PREFIX + repository;
  checkRepository(input, repository);
  return { registry, repository };
}

function checkRepository(input: string, repository: string): void {
  if (repository.toLowerCase() !== repository) {
    throw new ReferenceError(input, `repository name "${repository}" must be lowercase`);
  }
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT_RE.test(component)) {
      throw new ReferenceError(
        input,
        component === ''
          ? 'the repository path has an empty component ("//" or a trailing "/")'
          : `path component "${component}" is invalid (lowercase letters and digits, separated by ".", "_", "__" or "-")`,
      );
    }
  }
}
