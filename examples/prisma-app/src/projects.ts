import type { PrismaClient } from "./generated/prisma/client.js";

// The app's queries through the generated client: projects 1-n tasks.

/** What a transaction callback gets: the client without $connect, $transaction and the like. */
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
type Db = PrismaClient | Tx;

/** A project and its first task, in one nested create; returns the project with its tasks. */
export function addProject(db: Db, name: string, owner: string | null, firstTask: string) {
  return db.project.create({
    data: { name, owner, tasks: { create: { title: firstTask } } },
    include: { tasks: true },
  });
}

/** A task connected to an existing project through the relation. */
export function addTask(db: Db, projectId: number, title: string) {
  return db.task.create({ data: { title, project: { connect: { id: projectId } } } });
}

/** Open tasks with their project (a relation read), newest first. */
export function openTasks(db: Db, take?: number) {
  return db.task.findMany({
    where: { done: false },
    include: { project: { select: { name: true } } },
    orderBy: { id: "desc" },
    ...(take === undefined ? {} : { take }),
  });
}

/** Projects with how many tasks each has (a relation count). */
export function tasksPerProject(db: Db) {
  return db.project.findMany({
    select: { name: true, _count: { select: { tasks: true } } },
    orderBy: { id: "asc" },
  });
}

export async function counts(db: Db): Promise<{ projects: number; tasks: number }> {
  return { projects: await db.project.count(), tasks: await db.task.count() };
}
