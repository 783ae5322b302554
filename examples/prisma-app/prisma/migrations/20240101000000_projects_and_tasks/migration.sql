-- The schema of prisma/schema.prisma (projects 1-n tasks) in SQL Server DDL, with the constraint and
-- index names Prisma gives them, each table guarded by IF OBJECT_ID(...) IS NULL so that applying the
-- file again changes nothing. The app applies it on every start through the driver adapter
-- (src/migrate.ts), as one batch: Prisma Migrate's schema engine is a separate binary the app does not
-- download.

IF OBJECT_ID(N'[dbo].[projects]', N'U') IS NULL
CREATE TABLE [dbo].[projects] (
    [id] INT NOT NULL IDENTITY(1,1),
    [name] NVARCHAR(100) NOT NULL,
    [owner] NVARCHAR(255),
    [createdAt] DATETIME2 NOT NULL CONSTRAINT [projects_createdAt_df] DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT [projects_pkey] PRIMARY KEY CLUSTERED ([id])
);

IF OBJECT_ID(N'[dbo].[tasks]', N'U') IS NULL
BEGIN
    CREATE TABLE [dbo].[tasks] (
        [id] INT NOT NULL IDENTITY(1,1),
        [title] NVARCHAR(200) NOT NULL,
        [done] BIT NOT NULL CONSTRAINT [tasks_done_df] DEFAULT 0,
        [projectId] INT NOT NULL,
        CONSTRAINT [tasks_pkey] PRIMARY KEY CLUSTERED ([id]),
        CONSTRAINT [tasks_projectId_fkey] FOREIGN KEY ([projectId]) REFERENCES [dbo].[projects]([id]) ON DELETE CASCADE ON UPDATE CASCADE
    );
    CREATE NONCLUSTERED INDEX [tasks_projectId_idx] ON [dbo].[tasks]([projectId]);
END;
