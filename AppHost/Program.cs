Console.Error.WriteLine("The AppHost orchestrator is not built yet (issue 9).");
return 1;
