//! The corpus's services work: `google.longrunning.Operations` and
//! `google.cloud.location.Locations`, served and called through generated code.

#![allow(clippy::unwrap_used)]

#[test]
fn the_corpus_was_generated() {
    if std::env::var_os("MICRO_REQUIRE_PEERS").is_some() {
        assert!(
            googleapis_corpus::generated(),
            "MICRO_REQUIRE_PEERS is set but the corpus was not generated: set MICRO_GOOGLEAPIS_DIR=$(scripts/fetch-googleapis.sh)"
        );
    }
}

#[cfg(googleapis)]
mod served {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use googleapis_corpus::google::cloud::location::locations_client::LocationsClient;
    use googleapis_corpus::google::cloud::location::locations_server::{
        Locations, LocationsServer,
    };
    use googleapis_corpus::google::cloud::location::{
        GetLocationRequest, ListLocationsRequest, ListLocationsResponse, Location,
    };
    use googleapis_corpus::google::longrunning::operations_client::OperationsClient;
    use googleapis_corpus::google::longrunning::operations_server::{Operations, OperationsServer};
    use googleapis_corpus::google::longrunning::{
        CancelOperationRequest, DeleteOperationRequest, GetOperationRequest, ListOperationsRequest,
        ListOperationsResponse, Operation, WaitOperationRequest,
    };
    use micro::registry::MemoryRegistry;
    use micro::{Client, Context, Error, Result, Service};

    #[derive(Default)]
    struct Ops(Mutex<HashMap<String, Operation>>);

    impl Operations for Ops {
        async fn list_operations(
            &self,
            _ctx: Context,
            _req: ListOperationsRequest,
        ) -> Result<ListOperationsResponse> {
            let mut operations: Vec<Operation> = self.0.lock().unwrap().values().cloned().collect();
            operations.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(ListOperationsResponse {
                operations,
                ..ListOperationsResponse::default()
            })
        }

        async fn get_operation(
            &self,
            _ctx: Context,
            req: GetOperationRequest,
        ) -> Result<Operation> {
            self.0
                .lock()
                .unwrap()
                .get(&req.name)
                .cloned()
                .ok_or_else(|| Error::not_found("operations", format!("no operation {}", req.name)))
        }

        async fn delete_operation(&self, _ctx: Context, req: DeleteOperationRequest) -> Result<()> {
            self.0.lock().unwrap().remove(&req.name);
            Ok(())
        }

        async fn cancel_operation(&self, _ctx: Context, req: CancelOperationRequest) -> Result<()> {
            if let Some(op) = self.0.lock().unwrap().get_mut(&req.name) {
                op.done = true;
            }
            Ok(())
        }

        async fn wait_operation(
            &self,
            ctx: Context,
            req: WaitOperationRequest,
        ) -> Result<Operation> {
            self.get_operation(ctx, GetOperationRequest { name: req.name })
                .await
        }
    }

    struct Locs;

    impl Locations for Locs {
        async fn list_locations(
            &self,
            _ctx: Context,
            req: ListLocationsRequest,
        ) -> Result<ListLocationsResponse> {
            Ok(ListLocationsResponse {
                locations: vec![Location {
                    name: format!("{}/locations/eu", req.name),
                    location_id: "eu".into(),
                    ..Location::default()
                }],
                next_page_token: String::new(),
            })
        }

        async fn get_location(&self, _ctx: Context, req: GetLocationRequest) -> Result<Location> {
            Ok(Location {
                name: req.name,
                ..Location::default()
            })
        }
    }

    #[tokio::test]
    async fn operations_and_locations() {
        let registry = MemoryRegistry::new();
        let ops = Ops::default();
        ops.0.lock().unwrap().insert(
            "operations/1".into(),
            Operation {
                name: "operations/1".into(),
                ..Operation::default()
            },
        );
        let svc = Service::builder("google")
            .ignore_env()
            .registry(Arc::new(registry.clone()))
            .address("127.0.0.1:0")
            .handler(OperationsServer::new(ops))
            .handler(LocationsServer::new(Locs))
            .build()
            .unwrap()
            .start()
            .await
            .unwrap();
        let client = Client::new(Arc::new(registry));

        let operations = OperationsClient::new("google", client.clone());
        let op = operations
            .get_operation(GetOperationRequest {
                name: "operations/1".into(),
            })
            .await
            .unwrap();
        assert!(!op.done);
        operations
            .cancel_operation(CancelOperationRequest {
                name: "operations/1".into(),
            })
            .await
            .unwrap();
        let listed = operations
            .list_operations(ListOperationsRequest::default())
            .await
            .unwrap();
        assert!(listed.operations[0].done);
        operations
            .delete_operation(DeleteOperationRequest {
                name: "operations/1".into(),
            })
            .await
            .unwrap();
        let err = operations
            .get_operation(GetOperationRequest {
                name: "operations/1".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), 404);

        let locations = LocationsClient::new("google", client);
        let listed = locations
            .list_locations(ListLocationsRequest {
                name: "projects/p".into(),
                ..ListLocationsRequest::default()
            })
            .await
            .unwrap();
        assert_eq!(listed.locations[0].name, "projects/p/locations/eu");

        // The HTTP bindings of the corpus reach the registry.
        let get = svc.record().endpoint("Operations.GetOperation").unwrap();
        assert_eq!(get.metadata["method"], "GET");
        assert!(
            get.metadata["path"].starts_with("/v1/{name=operations/**}"),
            "{}",
            get.metadata["path"]
        );
        assert_eq!(
            get.metadata["grpc_path"],
            "/google.longrunning.Operations/GetOperation"
        );
    }
}
