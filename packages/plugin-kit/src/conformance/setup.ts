import type { AddressSpaceId, Denials, DomainSpace, Machine } from '@pkeysim/core';
import {
  assignableDomains,
  describeSpace,
  expect,
  loadEverywhere,
  mapTestPage,
  prepare,
  spacesOf,
  type SpaceUnderTest,
} from './fixture';
import type { ConformanceOptions, MakeMachine } from './options';

/** Run `body` for every domain space of a fresh machine, naming the space in any failure. */
export function eachSpace(make: MakeMachine, body: (machine: Machine, sut: SpaceUnderTest) => void): void {
  const first = make();
  const count = spacesOf(first).length;
  expect(count > 0, `machine "${first.arch}" has no domain space for either privilege`);
  for (let index = 0; index < count; index++) {
    // A fresh machine per space, so one space's test pages and rights never meet another's.
    const machine = index === 0 ? first : make();
    const sut = spacesOf(machine)[index];
    try {
      body(machine, sut);
    } catch (error) {
      if (error instanceof Error) error.message = `${describeSpace(sut.space)}: ${error.message}`;
      throw error;
    }
  }
}

/** The first domain software may use in the space; a failure when it has none. */
export function firstDomain(sut: SpaceUnderTest): number {
  const [domain] = assignableDomains(sut.space, 1);
  expect(domain !== undefined, 'has no domain software may use');
  return domain;
}

/** What a check that maps pages starts from: a space enabled on every CPU and its first usable domain. */
export interface PreparedSpace {
  readonly machine: Machine;
  readonly sut: SpaceUnderTest;
  readonly space: DomainSpace;
  /** The address space every CPU runs in, where test pages go. */
  readonly as: AddressSpaceId;
  /** The first domain software may use ({@link firstDomain}). */
  readonly domain: number;
  /** Map the `index`-th fresh test page, in `domain` (default: the space's default domain); its address. */
  page(index: number, domain?: number): number;
  /** Make the initial state with `domain` given exactly `denials` the rights every CPU runs with. */
  loadDenials(denials: Denials): void;
}

/**
 * The setup the map-and-access checks share: for every domain space of a fresh machine, prepare it
 * ({@link prepare}), find its first usable domain and hand `body` a page mapper.
 */
export function eachPreparedSpace(
  make: MakeMachine,
  options: ConformanceOptions,
  body: (prepared: PreparedSpace) => void,
): void {
  eachSpace(make, (machine, sut) => {
    const as = prepare(machine, sut);
    const domain = firstDomain(sut);
    body({
      machine,
      sut,
      space: sut.space,
      as,
      domain,
      page: (index, pageDomain) => mapTestPage(machine, as, sut, options, index, pageDomain),
      loadDenials: (denials) =>
        loadEverywhere(machine, sut.space, sut.space.withDenials(sut.space.initialState(), domain, denials)),
    });
  });
}
