import 'reflect-metadata';

export { main } from './main';
export { ExitCode, worstExitCode } from './exit-codes';
export { OutputError, UsageError } from './errors';
export { SCHEMA } from './json/names';
export { type Io, type MemoryIo, type OutputStream, createMemoryIo, processIo } from './io';
export { type Colors, colorEnabled } from './color';
export type { CliCommand, CommandContext } from './command';
export type { PluginSources } from './plugins/load';
export { COMMAND_TABLE, type CommandEntry } from './commands';
export { LineWriter } from './output';
